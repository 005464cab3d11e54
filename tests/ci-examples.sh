#!/usr/bin/env bash
# Runs the planner commands of the CI examples (docs/ci/*, .pre-commit-hooks.yaml) exactly as
# written, in a scratch repository with a clean change and a broken one, and checks the outcomes
# the examples rely on: exit status 0 when clean, 1 on an error, and a SARIF 2.1.0 file either
# way.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# cargo's target directory, which CARGO_TARGET_DIR may move (as the Makefile allows).
bin="${CARGO_TARGET_DIR:-$root/target}/release"
[[ -x $bin/ipam-planner ]] || { echo "build the CLI first: cargo build --release --bins" >&2; exit 2; }
export PATH="$bin:$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The `ipam-planner …` command lines of a file (run: blocks, script lists, pre-commit entries).
commands() { grep -oE 'ipam-planner (check|simulate)[^"]*' "$1" | sed 's/[[:space:]]*$//'; }

scenario() { # scenario NAME CHANGE-FILE → a scratch repo with k8s/ and live/
  rm -rf "$work/repo" && mkdir -p "$work/repo/k8s" "$work/repo/live"
  cp "$root/tests/fixtures/review/pool-changes/live.yaml" "$work/repo/live/"
  cp "$2" "$work/repo/k8s/"
}

failures=0
expect() { # expect STATUS DESCRIPTION COMMAND
  local want=$1 what=$2 cmd=$3 got=0
  (cd "$work/repo" && bash -c "$cmd") >"$work/out" 2>&1 || got=$?
  if [[ $got != "$want" ]]; then
    echo "FAIL $what: \`$cmd\` exited $got, expected $want"; sed 's/^/  | /' "$work/out"; failures=$((failures + 1))
  else
    echo "ok   $what: \`$cmd\` exited $got"
  fi
}

clean="$root/static/examples/healthy-cluster.yaml"
broken="$root/tests/fixtures/review/pool-changes/change.yaml"

# GitHub Actions: SARIF to a file; the job fails on errors, the upload step runs regardless.
while read -r cmd; do
  scenario clean "$clean"; expect 0 "github-actions (clean)" "$cmd"
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['version']=='2.1.0' and d['runs'][0]['tool']['driver']['name']=='ipam-planner'" "$work/repo/ipam-planner.sarif"
  scenario broken "$broken"; expect 1 "github-actions (broken)" "$cmd"
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); r=d['runs'][0]['results']; assert r and all(x['locations'][0]['physicalLocation']['region']['startLine']>0 for x in r)" "$work/repo/ipam-planner.sarif"
done < <(commands "$root/docs/ci/github-actions.yml")

# GitLab CI: the review against live/ fails on errors; the SARIF line never fails the job.
mapfile -t gitlab < <(commands "$root/docs/ci/gitlab-ci.yml")
scenario broken "$broken"
expect 1 "gitlab-ci review (broken)" "${gitlab[0]}"
expect 0 "gitlab-ci sarif artifact" "${gitlab[1]}"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert any(x['ruleId']=='pool-update-refused' for x in d['runs'][0]['results'])" "$work/repo/gl-ipam-planner.sarif"
scenario clean "$root/tests/fixtures/review/pool-deleted/change.yaml"
expect 0 "gitlab-ci review (warnings only)" "${gitlab[0]}"

# pre-commit: the entry with the staged files appended.
for file in "$root/.pre-commit-hooks.yaml" "$root/docs/ci/pre-commit-config.yaml"; do
  entry=$(grep -E '^\s*entry:' "$file" | head -1 | sed 's/^[[:space:]]*entry:[[:space:]]*//')
  scenario clean "$clean"; expect 0 "pre-commit $(basename "$file") (clean)" "$entry k8s/healthy-cluster.yaml"
  scenario broken "$broken"; expect 1 "pre-commit $(basename "$file") (broken)" "$entry k8s/change.yaml"
done

echo "ci examples: $failures failed"
[[ $failures == 0 ]]
