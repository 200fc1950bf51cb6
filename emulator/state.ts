/** The emulator's stored resources (datasets, jobs, batches, fine-tunes, connectors) and clock. */
import { isoAt } from "./util.js";

export interface DatasetRec {
  dataset: Record<string, unknown> & { id: string; dataset_type: string; validation_status: string; created_at: string };
  bytes: number;
}
export interface EmbedJobRec {
  job: Record<string, unknown> & { job_id: string; status: string };
  gets: number;
}
export interface BatchRec {
  batch: Record<string, unknown> & { id: string; status: string };
  gets: number;
}
export interface FinetuneRec {
  model: Record<string, unknown> & { id: string; status: string };
  gets: number;
  events: Array<{ user_id: string; status: string; created_at: string }>;
}
export interface ConnectorRec {
  connector: Record<string, unknown> & { id: string };
}

export class EmulatorState {
  private tick = 0;
  private counter = 0;
  readonly datasets = new Map<string, DatasetRec>();
  readonly embedJobs = new Map<string, EmbedJobRec>();
  readonly batches = new Map<string, BatchRec>();
  readonly finetunes = new Map<string, FinetuneRec>();
  readonly connectors = new Map<string, ConnectorRec>();

  /** Deterministic, strictly increasing timestamp. */
  now(): string {
    return isoAt(++this.tick);
  }
  next(): number {
    return ++this.counter;
  }
}

export const ORG_ID = "org-emulator-0001";
export const OWNER_ID = "user-emulator-0001";
