#!/usr/bin/env bash
# 5-fold NLU cross-validation; the report is kept in reports/nlu/ (intent macro-F1 printed).
set -euo pipefail
cd "$(dirname "$0")/../bot"
export RASA_TELEMETRY_ENABLED=false
../.venv-rasa/bin/rasa test nlu --nlu data/nlu --cross-validation --folds 5 --out ../reports/nlu >../reports/nlu-cv.log 2>&1 \
  || { tail -30 ../reports/nlu-cv.log; exit 1; }
python3 -c "import json; d=json.load(open('../reports/nlu/intent_report.json')); m=d['macro avg']; print('intent macro-F1 %.4f (precision %.4f, recall %.4f)' % (m['f1-score'], m['precision'], m['recall']))"
cp ../reports/nlu/intent_report.json ../reports/nlu-intent-report.json
