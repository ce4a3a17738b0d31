#!/usr/bin/env bash
# The LMT-scale pipeline on a GPU node (README: "The pipeline at scale"): one vLLM server per GPU
# serving the base with the SFT adapter as a LoRA module, then LbT and evaluation against them,
# with the checks on Ray when RAY_ADDRESS is set. Every stage resumes: rerun this script after a
# crash and it continues where it stopped (OUT/work/*.jsonl).
#
#   BASE=meta-llama/Meta-Llama-3-8B-Instruct ADAPTER=runs/sft/llama3-8b DATA=data/ode-sft \
#   OUT=data/ode-pref GPUS=8 bash training/scale/vllm-lbt.sh
#
# Needs: pip install vllm (GPU box only; not a dependency of this project).
set -euo pipefail
: "${BASE:?base model (hub id or directory)}" "${ADAPTER:?SFT adapter directory}" "${DATA:?training.data output}"
OUT="${OUT:-data/ode-pref}"; GPUS="${GPUS:-1}"; PORT0="${PORT0:-8000}"
K="${K:-32}"; EXAM="${EXAM:-3}"; M="${M:-3}"; CONCURRENCY="${CONCURRENCY:-64}"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
for ((g = 0; g < GPUS; g++)); do
  CUDA_VISIBLE_DEVICES=$g vllm serve "$BASE" --enable-lora --max-lora-rank 128 \
      --lora-modules "sft=$ADAPTER" --port $((PORT0 + g)) --host 127.0.0.1 >"vllm-$g.log" 2>&1 &
  pids+=("$!")
done
for ((g = 0; g < GPUS; g++)); do
  until curl -sf "http://127.0.0.1:$((PORT0 + g))/v1/models" >/dev/null; do sleep 5; done
done

# One LbT process per server, each on its own share of the problems (--families splits them
# here; the stages' logs are per OUT directory, so each share resumes on its own).
lbt=()
families=($(python -c "from tutor.engine.registry import ids; print(' '.join(ids()))"))
for ((g = 0; g < GPUS; g++)); do
  share=()
  for ((i = g; i < ${#families[@]}; i += GPUS)); do share+=("${families[$i]}"); done
  [ ${#share[@]} -eq 0 ] && continue
  python -m training.lbt --data "$DATA" --base-model "$BASE" --server "http://127.0.0.1:$((PORT0 + g))" \
      --server-model sft --concurrency "$CONCURRENCY" --k "$K" --exam-size "$EXAM" --m "$M" \
      --families "${share[@]}" --out "$OUT/share-$g" --no-progress &
  lbt+=("$!")
done
status=0
for pid in "${lbt[@]}"; do wait "$pid" || status=$?; done   # status 3: some items failed; rerun
python -m training.evaluate --profile "${PROFILE:-phi3-mini-ode}" --data "$DATA" --server "http://127.0.0.1:$PORT0" \
    --server-model sft --concurrency "$CONCURRENCY" --k 4 --out "runs/eval/$(basename "$ADAPTER")"
exit $status
