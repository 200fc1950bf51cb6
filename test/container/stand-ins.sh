#!/usr/bin/env bash
# Stand-in base images for `npm run test:container`, built from this Debian machine's own files
# because no image registry is reachable here. Each is tagged with the name the Dockerfile and the
# compose file use, so the very same files users build and run are what the tests build and run:
#
#   docker.io/library/node:20-bookworm-slim   the host's node + npm, busybox for sh, a `node` user (1000),
#                                             and the host's CA bundle as NODE_EXTRA_CA_CERTS (this
#                                             machine reaches the npm registry through a TLS proxy)
#   docker.io/library/redis:7-bookworm        the host's redis-server and redis-cli (Debian's packages)
#   docker.io/library/nginx:1-bookworm        the host's nginx with the official image's layout and its
#                                             /etc/nginx/templates envsubst step (busybox sed)
#
# Usage: stand-ins.sh WORKDIR   (podman's CONTAINERS_CONF / CONTAINERS_STORAGE_CONF already exported)
# Only what is missing from the image store is built.
set -euo pipefail
work=$1
mkdir -p "$work"

have() { podman image exists "$1"; }

# Copy an executable and every shared library it loads (plus the loader) into a rootfs.
copy_bin() {
  local root=$1 bin=$2 dest=$3
  install -D -m 0755 "$(readlink -f "$bin")" "$root$dest"
  ldd "$bin" | awk '/=>/ { print $3 } /^\s*\/lib/ { print $1 }' | while read -r lib; do
    [ -n "$lib" ] || continue
    install -D -m 0755 "$(readlink -f "$lib")" "$root/usr/lib/x86_64-linux-gnu/$(basename "$lib")"
  done
}

# A Debian-like skeleton: merged /usr, busybox as sh and the coreutils, CA certificates, users.
skeleton() {
  local root=$1
  rm -rf "$root"
  mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,usr/lib64,etc/ssl/certs,tmp,root,home,run,var/tmp}
  ln -s usr/bin "$root/bin"
  ln -s usr/sbin "$root/sbin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"
  ln -s ../run "$root/var/run"
  chmod 1777 "$root/tmp" "$root/var/tmp"
  install -m 0755 /bin/busybox "$root/usr/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/usr/bin/$applet"
  done
  install -m 0755 "$(readlink -f /lib64/ld-linux-x86-64.so.2)" "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
  ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/usr/lib64/ld-linux-x86-64.so.2"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
  printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
  cp /etc/os-release "$root/etc/os-release"
}

commit() {
  local root=$1 tag=$2; shift 2
  local ctr
  ctr=$(buildah from scratch)
  # Through a tar, which `buildah add` unpacks with its owners (buildah copy would make every file
  # root's): /home/node is node's, Redis's /data is redis's, as in the official images.
  tar --numeric-owner -C "$root" -cf "$root.tar" .
  buildah add --quiet "$ctr" "$root.tar" / >/dev/null
  rm -f "$root.tar"
  buildah config "$@" "$ctr"
  buildah commit --quiet --format docker "$ctr" "$tag" >/dev/null
  buildah rm "$ctr" >/dev/null
  echo "stand-in built: $tag"
}

node_tag=docker.io/library/node:20-bookworm-slim
if ! have "$node_tag"; then
  root=$work/rootfs-node
  skeleton "$root"
  copy_bin "$root" "$(command -v node)" /usr/local/bin/node
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  echo 'node:x:1000:1000::/home/node:/bin/sh' >> "$root/etc/passwd"
  echo 'node:x:1000:' >> "$root/etc/group"
  install -d -o 1000 -g 1000 "$root/home/node"
  commit "$root" "$node_tag" --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$(node --version | tr -d v)" \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt --cmd node
fi

redis_tag=docker.io/library/redis:7-bookworm
if ! have "$redis_tag"; then
  root=$work/rootfs-redis
  skeleton "$root"
  copy_bin "$root" /usr/bin/redis-server /usr/local/bin/redis-server
  copy_bin "$root" /usr/bin/redis-cli /usr/local/bin/redis-cli
  echo 'redis:x:999:999::/home/redis:/usr/sbin/nologin' >> "$root/etc/passwd"
  echo 'redis:x:999:' >> "$root/etc/group"
  install -d -o 999 -g 999 "$root/data"   # the official image's /data is redis's (compose runs it as user redis)
  commit "$root" "$redis_tag" --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --workingdir /data --volume /data --port 6379 --cmd redis-server
fi

nginx_tag=docker.io/library/nginx:1-bookworm
if ! have "$nginx_tag"; then
  root=$work/rootfs-nginx
  skeleton "$root"
  copy_bin "$root" /usr/sbin/nginx /usr/sbin/nginx
  echo 'nginx:x:101:101::/nonexistent:/usr/sbin/nologin' >> "$root/etc/passwd"
  echo 'nginx:x:101:' >> "$root/etc/group"
  mkdir -p "$root"/etc/nginx/conf.d "$root"/var/log/nginx "$root"/var/lib/nginx "$root"/var/cache/nginx "$root"/docker-entrypoint.d
  cp /etc/nginx/mime.types "$root/etc/nginx/mime.types"
  # The official image's nginx.conf (the parts that matter) and its default server on port 80.
  cat > "$root/etc/nginx/nginx.conf" <<'CONF'
user nginx;
worker_processes auto;
error_log /dev/stderr notice;
pid /var/run/nginx.pid;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /dev/stdout;
    sendfile on;
    keepalive_timeout 65;
    include /etc/nginx/conf.d/*.conf;
}
CONF
  printf 'server {\n    listen 80;\n    location / { return 200 "stand-in nginx\\n"; }\n}\n' > "$root/etc/nginx/conf.d/default.conf"
  # The official entrypoint's 20-envsubst-on-templates step: every /etc/nginx/templates/X.template
  # becomes /etc/nginx/conf.d/X with ${VAR} replaced by the environment's value (defined vars only).
  cat > "$root/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
if [ -d /etc/nginx/templates ]; then
  for t in /etc/nginx/templates/*.template; do
    [ -e "$t" ] || continue
    out=/etc/nginx/conf.d/$(basename "$t" .template)
    cp "$t" "$out"
    for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p'); do
      eval "value=\${$name}"
      value=$(printf '%s' "$value" | sed 's/[&|\\]/\\&/g')
      sed -i "s|\${$name}|$value|g" "$out"
    done
    echo "envsubst: $t -> $out" >&2
  done
fi
exec "$@"
SH
  chmod 0755 "$root/docker-entrypoint.sh"
  commit "$root" "$nginx_tag" --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --entrypoint '["/docker-entrypoint.sh"]' --cmd '["nginx","-g","daemon off;"]' --port 80 --stop-signal SIGQUIT
fi
