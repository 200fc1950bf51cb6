#!/usr/bin/env bash
# Stand-in base images for `npm run test:container`, built from this Debian machine's own files
# because no image registry is reachable here. Each is tagged with the name the Dockerfile and the
# compose file use, so the very same files users build and run are what the tests build and run:
#
#   docker.io/library/node:20-bookworm-slim   what debian:bookworm-slim holds (the files of this Debian 12
#                                             machine's Priority: required packages and apt, with the
#                                             slim variant's excludes: no docs, man pages or locales), then
#                                             the official node image's /usr/local: node, npm, corepack and
#                                             the headers (OpenSSL's for x86_64 only); a `node` user (1000);
#                                             the host's CA bundle as NODE_EXTRA_CA_CERTS (this machine
#                                             reaches the npm registry through a TLS proxy). Its size is
#                                             within a few MB of the real one's (no yarn, no dpkg database),
#                                             so the image size printed is the one users get.
#   gcr.io/distroless/nodejs20-debian12:nonroot  the Dockerfile's `distroless` target's base: Debian 12's
#                                             libc, OpenSSL, libstdc++, zlib, tzdata, CA bundle, a nonroot
#                                             user (65532) and node at /nodejs/bin/node; no shell
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

# Every file of the given installed packages into ROOT, as the merged-/usr paths they have here,
# through one tar (owners, modes and links kept), less what debuerreotype's slim variant excludes
# (docs but copyrights, man and info pages, locales).
copy_packages() {
  local root=$1 p; shift
  for p in "$@"; do [ "$p" = usrmerge ] || dpkg -L "$p" || true; done 2>/dev/null |
    sed -E 's#^/(bin|sbin|lib|lib64)(/|$)#/usr/\1\2#' | sort -u |
    grep -Ev '^/usr/share/(man|info|locale|lintian|linda|groff)/|^/usr/share/doc/[^/]+/([^c]|c[^o])|^/(bin|sbin|lib|lib64|usr/bin|usr/sbin|usr/lib|usr/lib64|\.)$' |
    while read -r f; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\n' "${f#/}"; fi; done |
    tar -C / --no-recursion -cf - -T - | tar -C "$root" -xpf -
}

# debian:bookworm-slim from this machine's own Debian 12 files: every file of the Priority:
# required packages, apt and what they depend on, less what debuerreotype's slim variant excludes
# (docs but copyrights, man and info pages, locales). Paths are written under /usr (merged /usr).
debian_slim() {
  local root=$1
  rm -rf "$root"
  mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,tmp,root,home,run,var/tmp,etc}
  ln -s usr/bin "$root/bin"
  ln -s usr/sbin "$root/sbin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"
  ln -s ../run "$root/var/run"
  chmod 1777 "$root/tmp" "$root/var/tmp"
  local pkgs todo next p d
  pkgs=$(dpkg-query -W -f='${Package} ${Priority}\n' | awk '$2 == "required" { print $1 }'; echo apt)
  todo=$pkgs
  while [ -n "$todo" ]; do
    next=""
    for p in $todo; do
      for d in $(dpkg-query -W -f='${Depends},${Pre-Depends}' "$p" 2>/dev/null | tr ',|' '\n\n' | sed 's/(.*//; s/:any//; s/ //g'); do
        dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q ' installed$' || continue
        printf '%s\n' $pkgs | grep -qx "$d" && continue
        pkgs="$pkgs $d"
        next="$next $d"
      done
    done
    todo=$next
  done
  copy_packages "$root" $pkgs
  # update-alternatives' links (awk, pager, …: made by maintainer scripts, so in no file list)
  cp -a /etc/alternatives "$root/etc/"
  local link
  for link in /usr/bin/* /usr/sbin/*; do
    [ -L "$link" ] && [ ! -e "$root$link" ] || continue
    case $(readlink "$link") in /etc/alternatives/*) [ -e "$root$(readlink -f "$link")" ] && cp -a "$link" "$root$link" ;; esac
  done
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt" 2>/dev/null ||
    { mkdir -p "$root/etc/ssl/certs" && cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"; }
  printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
  printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
  echo "debian-slim stand-in: $(printf '%s\n' $pkgs | wc -l) packages, $(du -s --apparent-size --block-size=1M "$root" | cut -f1) MB" >&2
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
  debian_slim "$root"
  # The official image's /usr/local (the nodejs.org tarball): node, npm, corepack, the headers
  # with OpenSSL's for this architecture only (the image deletes the others).
  install -D -m 0755 "$(readlink -f "$(command -v node)")" "$root/usr/local/bin/node"
  modules=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/..
  mkdir -p "$root/usr/local/lib/node_modules" "$root/usr/local/include"
  cp -a "$modules/npm" "$root/usr/local/lib/node_modules/npm"
  [ -d "$modules/corepack" ] && cp -a "$modules/corepack" "$root/usr/local/lib/node_modules/corepack" &&
    ln -s ../lib/node_modules/corepack/dist/corepack.js "$root/usr/local/bin/corepack"
  if [ -d /usr/include/node ]; then
    cp -a /usr/include/node "$root/usr/local/include/node"
    find "$root/usr/local/include/node/openssl/archs" -mindepth 1 -maxdepth 1 ! -name linux-x86_64 -exec rm -rf {} + 2>/dev/null || true
  fi
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  echo 'node:x:1000:1000::/home/node:/bin/sh' >> "$root/etc/passwd"
  echo 'node:x:1000:' >> "$root/etc/group"
  install -d -o 1000 -g 1000 "$root/home/node"
  commit "$root" "$node_tag" --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$(node --version | tr -d v)" \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt --cmd node
fi

# gcr.io/distroless/nodejs20-debian12:nonroot as distroless builds it: Debian 12's libc6, libssl3,
# libgcc-s1, libstdc++6 (with gcc-12-base), zlib1g, tzdata and netbase, the CA bundle, a
# base-files-like /etc (passwd and group with nonroot 65532, nsswitch.conf, os-release), each
# package's record in /var/lib/dpkg/status.d/ (what scanners read), then Node's binary at
# /nodejs/bin/node; the entrypoint is node, the user 65532. No shell, no apt, no dpkg tools.
distroless_tag=gcr.io/distroless/nodejs20-debian12:nonroot
if ! have "$distroless_tag"; then
  root=$work/rootfs-distroless
  rm -rf "$root"
  mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,tmp,root,home/nonroot,run,var/tmp,etc/ssl/certs,var/lib/dpkg/status.d,nodejs/bin}
  ln -s usr/bin "$root/bin"
  ln -s usr/sbin "$root/sbin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"
  ln -s ../run "$root/var/run"
  chmod 1777 "$root/tmp" "$root/var/tmp"
  chmod 0700 "$root/root"
  chown 65532:65532 "$root/home/nonroot"
  chmod 0700 "$root/home/nonroot"
  pkgs="libc6 libssl3 libgcc-s1 libstdc++6 gcc-12-base zlib1g tzdata netbase"
  for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' ||
      { echo "distroless stand-in: Debian package $p is not installed here (apt-get install $p; .ci/run does)" >&2; exit 1; }
  done
  copy_packages "$root" $pkgs
  for p in $pkgs; do dpkg-query -s "$p" > "$root/var/lib/dpkg/status.d/$p"; done
  # libc6's ldd and tzdata's tzselect are scripts whose interpreter the image does not have: the
  # real image has them too, useless; a shell of any kind must not be there.
  rm -f "$root"/usr/bin/{sh,bash,dash} "$root"/usr/sbin/{dpkg,apt,apt-get}
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' > "$root/etc/group"
  printf 'hosts: files dns\nnetworks: files\npasswd: files\ngroup: files\nshadow: files\n' > "$root/etc/nsswitch.conf"
  printf 'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID="debian"\nVERSION_ID="12"\nVERSION="Debian GNU/Linux 12 (bookworm)"\nHOME_URL="https://github.com/GoogleContainerTools/distroless"\n' > "$root/etc/os-release"
  cp /etc/debian_version "$root/etc/debian_version"
  install -m 0755 "$(readlink -f "$(command -v node)")" "$root/nodejs/bin/node"
  [ -f /usr/share/doc/nodejs/LICENSE ] && cp /usr/share/doc/nodejs/LICENSE "$root/nodejs/LICENSE"
  commit "$root" "$distroless_tag" --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt --user 65532 --workingdir /home/nonroot \
    --entrypoint '["/nodejs/bin/node"]'
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
