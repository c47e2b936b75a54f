#!/bin/bash
export CRYO_HOSTILE_TAG=@TAG@
attempts=0
escaped=0
try() {
  local name=$1 out rc
  shift
  attempts=$((attempts + 1))
  out=$("$@" 2>&1 </dev/null)
  rc=$?
  out=${out//$'\n'/ | }
  if [ "$rc" -eq 0 ]; then
    escaped=$((escaped + 1))
    echo "ESCAPED $name: ${out:0:400}"
  else
    echo "ATTEMPT $name: blocked (exit $rc: ${out:0:400})"
  fi
}
note() {
  local name=$1
  shift
  echo "ATTEMPT $name: $*"
}
finish() {
  echo "cryo-hostile: $attempts attempts, $escaped escaped; failing the build on purpose"
  exit 1
}
