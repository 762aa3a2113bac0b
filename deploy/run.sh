#!/usr/bin/env bash
# One command to a running kefud: installs missing Debian packages, builds Release, creates the
# data directory and starts kefud in the foreground with deploy/kefud.example.toml on
# 127.0.0.1:8080. Ctrl-C stops it cleanly (SIGINT drains in-flight requests, exit 0).
#
# Environment: KEFU_BUILD_DIR (default ./build), KEFU_CONFIG (default deploy/kefud.example.toml),
# KEFU_DATA_DIR (default ./data, relative to the repository root). Extra arguments are passed to
# kefud, e.g. ./deploy/run.sh --set log.level=debug
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

"$root/deploy/install-deps.sh"
build_dir=${KEFU_BUILD_DIR:-"$root/build"}
"$root/deploy/build.sh" "$build_dir" Release

config=${KEFU_CONFIG:-"$root/deploy/kefud.example.toml"}
data_dir=${KEFU_DATA_DIR:-./data}
mkdir -p "$data_dir"

kefud="$build_dir/bin/kefud"
kefuctl="$build_dir/bin/kefuctl"
# The demo FAQ base of a fictional online shop (deploy/demo/faq.jsonl); importing again updates the
# same ids, so a second start changes nothing.
"$kefuctl" --config "$config" --set "storage.data_dir=$data_dir" faq import "$root/deploy/demo/faq.jsonl"

# Demo console users, created once with random passwords kept in $data_dir/demo-users.txt (0600).
demo_users="$data_dir/demo-users.txt"
if [ ! -s "$demo_users" ]; then
  umask 077
  : > "$demo_users.tmp"
  for spec in admin:admin:管理员 supervisor:supervisor:值班主管 agent1:agent:客服小王 agent2:agent:客服小李; do
    IFS=: read -r user role name <<<"$spec"
    password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
    printf '%s\n' "$password" | "$kefuctl" --config "$config" --set "storage.data_dir=$data_dir" \
      user add "$user" --role "$role" --display-name "$name" --password-file - >/dev/null
    printf '%-11s %-11s %s\n' "$user" "$role" "$password" >> "$demo_users.tmp"
  done
  mv "$demo_users.tmp" "$demo_users"
fi

check=$("$kefud" --check-config --config "$config" --set "storage.data_dir=$data_dir" "$@")
listen=$(printf '%s\n' "$check" | awk '$1 == "listen" {print $2}')
cat <<INFO

kefud is starting on http://$listen (data in $(cd "$data_dir" && pwd)).
  health:   curl http://$listen/healthz      readiness: curl http://$listen/readyz
  metrics:  curl http://$listen/metrics
  console:  http://$listen/console/   sign in as (user, role, password):
$(sed 's/^/            /' "$demo_users")
  token:    $kefuctl --config $config --set storage.data_dir=$data_dir token create --role admin --name me
  then:     curl -H "Authorization: Bearer <token>" http://$listen/api/v1/whoami
  demo:     $kefuctl --config $config simulate wecom --url http://$listen/callback/wecom/demo --app demo --from zhangsan --text "怎么申请退款"
            then: curl -H "Authorization: Bearer <token>" http://$listen/api/v1/conversations
  backup:   $kefuctl --config $config --set storage.data_dir=$data_dir backup ./kefu-backup.db
Stop with Ctrl-C.

INFO
exec "$kefud" --config "$config" --set "storage.data_dir=$data_dir" "$@"
