#!/usr/bin/env bash
# Apply every example in terraform-examples/ against a fresh CloudEmu, check that a second plan is
# empty (Terraform reads back exactly what it wrote), then destroy.
#   tests/terraform/run.sh                 # all examples, target/release/cloudemu
#   tests/terraform/run.sh kms-key         # one example
# The AWS provider comes from a local filesystem mirror when one exists (TF_PLUGIN_MIRROR,
# default /opt/tf-plugins; this machine has no route to the Terraform registry), else from the
# registry. Without a `terraform` binary the script says so and exits 0: it is an extra check,
# not a build dependency.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
examples_dir="$root/terraform-examples"

if ! command -v terraform >/dev/null; then
    echo "tests/terraform: skipped, no terraform on PATH"
    exit 0
fi

bin="${CLOUDEMU_BIN:-$root/target/release/cloudemu}"
if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build --release)
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Terraform's CLI configuration: the mirror if there is one, and a plugin cache shared by the
# examples so each `init` does not unpack the provider again.
mirror="${TF_PLUGIN_MIRROR:-/opt/tf-plugins}"
mkdir -p "$work/plugin-cache"
{
    echo "plugin_cache_dir = \"$work/plugin-cache\""
    if [ -d "$mirror" ]; then
        echo "provider_installation {"
        echo "  filesystem_mirror {"
        echo "    path    = \"$mirror\""
        echo "    include = [\"registry.terraform.io/hashicorp/*\"]"
        echo "  }"
        echo "}"
    fi
} >"$work/terraformrc"
export TF_CLI_CONFIG_FILE="$work/terraformrc"
export TF_IN_AUTOMATION=1
export CHECKPOINT_DISABLE=1

# A free port, so a CloudEmu already running on 4566 is left alone.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$bin" --port "$port" --data-dir "$work/data" --log-level warn >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/_cloudemu/health" >/dev/null 2>&1; then
        break
    fi
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/_cloudemu/health" >/dev/null

if [ "$#" -gt 0 ]; then
    examples=("$@")
else
    examples=()
    for d in "$examples_dir"/*/; do
        examples+=("$(basename "$d")")
    done
fi

failed=()
for name in "${examples[@]}"; do
    echo "==> terraform-examples/$name"
    dir="$work/examples/$name"
    mkdir -p "$dir"
    cp -L "$examples_dir/$name"/*.tf "$dir/"
    # Same provider settings as the example, on this run's port.
    sed -i "s#http://localhost:4566#http://localhost:$port#g" "$dir"/*.tf
    ok=1
    (cd "$dir" && terraform init -input=false -no-color >"$dir/init.log" 2>&1) || { ok=0; cat "$dir/init.log"; }
    if [ "$ok" = 1 ]; then
        (cd "$dir" && terraform apply -auto-approve -input=false -no-color >"$dir/apply.log" 2>&1) ||
            { ok=0; echo "apply failed:"; tail -40 "$dir/apply.log"; }
    fi
    if [ "$ok" = 1 ]; then
        # 0 = no changes; 2 = Terraform would change something it just wrote (a read-back mismatch).
        set +e
        (cd "$dir" && terraform plan -detailed-exitcode -input=false -no-color >"$dir/plan.log" 2>&1)
        code=$?
        set -e
        if [ "$code" != 0 ]; then
            ok=0
            echo "second plan not empty (exit $code):"
            tail -60 "$dir/plan.log"
        fi
    fi
    # Destroy even after a failure, so the next example starts from a clean account.
    (cd "$dir" && terraform destroy -auto-approve -input=false -no-color >"$dir/destroy.log" 2>&1) ||
        { [ "$ok" = 0 ] || { ok=0; echo "destroy failed:"; tail -40 "$dir/destroy.log"; }; }
    if [ "$ok" = 1 ]; then
        echo "    apply, empty second plan, destroy: ok"
    else
        failed+=("$name")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "tests/terraform: failed: ${failed[*]}"
    echo "--- server log (last 40 lines)"
    tail -40 "$work/server.log"
    exit 1
fi
echo "tests/terraform: ${#examples[@]} examples passed"
