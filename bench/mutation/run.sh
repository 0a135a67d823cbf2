#!/usr/bin/env bash
# Mutation testing of the security-critical code with Stryker.NET (the local tool in .config/dotnet-tools.json).
# Usage: bench/mutation/run.sh [target ...]   targets: audit, crypt4gh, server, tokens, desktop (default: all, in that order).
# Each target mutates only the named files and runs one fast unit-test project, one test process at a time
# (the machine is shared). Prints each target's score, then, as the LAST line, the aggregate over the
# targets it ran: "mutation score: N%" = (killed + timeout) / (killed + timeout + survived + no coverage).
# Reports (JSON, HTML) go to bench/mutation/out/<target>/ (not committed). See docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet tool restore >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(audit crypt4gh server tokens desktop)
fi

run_target() {
  local name="$1" test_dir="$2" project="$3"
  shift 3
  local mutate=()
  for pattern in "$@"; do
    mutate+=(--mutate "$pattern")
  done
  local out="$root/bench/mutation/out/$name"
  rm -rf "$out"
  echo "== $name: $* (tests: $test_dir)"
  local start=$SECONDS
  (cd "$root/$test_dir" && dotnet stryker --project "$project" "${mutate[@]}" --concurrency 1 --test-runner mtp --configuration Release \
    --reporter Json --reporter Html --reporter ClearText --output "$out" --skip-version-check) > "$root/bench/mutation/out/$name.log" 2>&1 \
    || { echo "stryker failed for $name; see bench/mutation/out/$name.log"; exit 1; }
  echo "$name: $((SECONDS - start)) s"
}

mkdir -p bench/mutation/out
for target in "${targets[@]}"; do
  case "$target" in
    audit) run_target audit tests/OpenSpe.Core.Tests OpenSpe.Core.csproj "**/Audit/AuditChainVerifier.cs" ;;
    crypt4gh) run_target crypt4gh tests/OpenSpe.Crypt4gh.Tests OpenSpe.Crypt4gh.csproj "**/HeaderCodec.cs" "**/Crypt4ghHeader.cs" ;;
    # The server's security decisions, which live in Core (no host, no database): the access chain and its handlers,
    # the membership rule, the separation-of-duties table, the permit validator, state machine and file-type policy.
    server) run_target server tests/OpenSpe.Core.Tests OpenSpe.Core.csproj "**/Access/**/*.cs" "**/Identity/SeparationOfDuties.cs" \
      "**/Permits/PermitValidator.cs" "**/Permits/PermitLifecycle.cs" "**/Permits/PermitFileTypePolicy.cs" ;;
    # What a bearer token must satisfy to call the API (local and external), tested with real signed tokens.
    tokens) run_target tokens tests/OpenSpe.Server.UnitTests OpenSpe.Server.csproj "**/Identity/AccessTokenValidation.cs" ;;
    # The desktop gateway's RFB filter: what may pass between a browser and the VNC server (clipboard, framing).
    desktop) run_target desktop tests/OpenSpe.Core.Tests OpenSpe.Core.csproj "**/Desktop/*.cs" ;;
    *) echo "unknown target: $target (audit, crypt4gh, server, tokens, desktop)"; exit 2 ;;
  esac
done

# Count the mutants of every report this run wrote; list the survivors with file:line.
python3 - "$root/bench/mutation/out" "${targets[@]}" <<'PY'
import json, os, sys
out, targets = sys.argv[1], sys.argv[2:]
detected = undetected = 0
for target in targets:
    with open(os.path.join(out, target, "reports", "mutation-report.json"), encoding="utf-8") as f:
        report = json.load(f)
    k = u = 0
    for path, file in sorted(report["files"].items()):
        for m in file["mutants"]:
            status = m["status"]
            if status in ("Killed", "Timeout"):
                k += 1
            elif status in ("Survived", "NoCoverage"):
                u += 1
                line = m["location"]["start"]["line"]
                print(f"  {status.lower()}: {os.path.relpath(path)}:{line} {m['mutatorName']}: {m.get('replacement', '')!r}")
    score = 100.0 * k / (k + u) if k + u else 100.0
    print(f"{target}: {k} killed, {u} survived, score {score:.1f}%")
    detected += k
    undetected += u
total = detected + undetected
print(f"mutation score: {100.0 * detected / total if total else 100.0:.1f}%")
PY
