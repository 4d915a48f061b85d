package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"policybot/knowledge"
)

const devSetPath = "../../knowledge/testdata/qa-dev.jsonl"

// Floors a few points under what the dev set reaches (see the README's
// figures); they keep retrieval changes from sliding back unnoticed.
const (
	floorFactHit = 0.90
	floorRefusal = 0.79
)

func TestDevSetFloor(t *testing.T) {
	items, err := readEvalFile(devSetPath)
	if err != nil {
		t.Fatal(err)
	}
	kb, _, err := knowledge.Load(knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := runEval(context.Background(), kb, items)
	t.Logf("fact-hit %.1f%%, refusal %.1f%%, source-file %.1f%%", 100*rep.FactHitRate, 100*rep.RefusalRate, 100*rep.SourceFileRate)
	if rep.FactHitRate < floorFactHit {
		t.Errorf("fact-hit rate %.3f fell under the floor %.2f", rep.FactHitRate, floorFactHit)
	}
	if rep.RefusalRate < floorRefusal {
		t.Errorf("refusal rate %.3f fell under the floor %.2f", rep.RefusalRate, floorRefusal)
	}
	if rep.OverLimit != 0 {
		t.Errorf("%d answers over 2048 bytes", rep.OverLimit)
	}
}

// The check sets (knowledge/testdata/qa-check*.jsonl) were written from the
// corpus in other words than the dev set; their floors, a few points under
// what they reach together (87.8% and 83.3%), keep a change tuned to the dev
// set's wording from costing general performance unnoticed.
const (
	floorCheckFactHit = 0.84
	floorCheckRefusal = 0.80
)

func TestCheckSetsFloor(t *testing.T) {
	files, err := filepath.Glob("../../knowledge/testdata/qa-check*.jsonl")
	if err != nil || len(files) < 10 {
		t.Fatalf("check sets: %v %v", files, err)
	}
	var items []evalItem
	for _, f := range files {
		it, err := readEvalFile(f)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it...)
	}
	kb, _, err := knowledge.Load(knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := runEval(context.Background(), kb, items)
	t.Logf("%d questions: fact-hit %.1f%%, refusal %.1f%%", len(items), 100*rep.FactHitRate, 100*rep.RefusalRate)
	if rep.FactHitRate < floorCheckFactHit {
		t.Errorf("fact-hit rate %.3f fell under the floor %.2f", rep.FactHitRate, floorCheckFactHit)
	}
	if rep.RefusalRate < floorCheckRefusal {
		t.Errorf("refusal rate %.3f fell under the floor %.2f", rep.RefusalRate, floorCheckRefusal)
	}
}

// The extra-document sets run with the shipped corpus and the four extra
// documents loaded together, as a deployment that added them would. The
// frozen set is never tuned on; its floor only stops a change from costing
// unseen documents unnoticed (it reaches 65.6% / 87.5%, the check set
// 75.0% / 87.5%, the dev set with the extra documents 93.8% / 87.5%).
func TestExtraDocumentSetsFloor(t *testing.T) {
	kb, problems, err := knowledge.Load(knowledge.Options{Dirs: []string{"../../knowledge/testdata/extra"}})
	if err != nil || len(problems) > 0 {
		t.Fatalf("load: %v %v", err, problems)
	}
	for _, tt := range []struct {
		file         string
		hit, refusal float64
	}{
		{"qa-extra-frozen.jsonl", 0.60, 0.80},
		{"qa-extra-check.jsonl", 0.70, 0.80},
		{"qa-dev.jsonl", 0.92, 0.83},
	} {
		items, err := readEvalFile("../../knowledge/testdata/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		rep := runEval(context.Background(), kb, items)
		t.Logf("%s with the extra documents: fact-hit %.1f%%, refusal %.1f%%", tt.file, 100*rep.FactHitRate, 100*rep.RefusalRate)
		if rep.FactHitRate < tt.hit || rep.RefusalRate < tt.refusal {
			t.Errorf("%s: %.3f / %.3f fell under the floor %.2f / %.2f", tt.file, rep.FactHitRate, rep.RefusalRate, tt.hit, tt.refusal)
		}
	}
}

func TestEvalCommandPrintsTheFigures(t *testing.T) {
	code, out, errOut := runCmd(t, "", "eval", "--calibrate", devSetPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"fact-hit rate", "source-file hit rate", "refusal rate", "over 2048 bytes", "latency", "unanswerable", "best threshold"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
}

func TestCalibratePrefersABroadOptimumToASpike(t *testing.T) {
	// answerable questions score 0.6..0.9 and hit; unanswerable 0.1..0.3:
	// every threshold in (0.30, 0.60] separates perfectly.
	var s []scored
	for _, v := range []float64{0.6, 0.7, 0.8, 0.9} {
		s = append(s, scored{score: v, hit: true})
	}
	for _, v := range []float64{0.1, 0.2, 0.3} {
		s = append(s, scored{score: v, unanswerable: true})
	}
	best, _ := calibrate(s)
	if best < 0.34 || best > 0.57 {
		t.Errorf("calibrate = %.2f, want well inside 0.31..0.60", best)
	}
	// a lone answerable question at 0.95 and an unanswerable at 0.94 make a
	// one-step spike at 0.95 that smoothing must not choose over the plateau
	s = append(s, scored{score: 0.94, unanswerable: true}, scored{score: 0.95, hit: true})
	if best, _ := calibrate(s); best > 0.6 {
		t.Errorf("calibrate chose the spike: %.2f", best)
	}
}

// eval --llm runs the dev set through a model: here a fake that answers
// from the first passage it is given, and invents a figure for every
// fifth question; the report shows the grounding rejections.
func TestEvalWithModel(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Messages []struct{ Content string } }
		json.NewDecoder(r.Body).Decode(&req)
		reply := "文件里没有写。"
		if len(req.Messages) == 2 {
			p := req.Messages[1].Content
			if i := strings.Index(p, "\n[1] "); i >= 0 {
				lines := strings.SplitN(p[i+1:], "\n", 3)
				if len(lines) >= 2 {
					reply = strings.SplitAfterN(lines[1], "。", 2)[0]
				}
			}
		}
		if n.Add(1)%5 == 0 {
			reply = "按规定每月不少于15天，补助9999元。"
		}
		w.Header().Set("Content-Type", "text/event-stream")
		b, _ := json.Marshal(map[string]any{"choices": []map[string]any{{"index": 0, "delta": map[string]string{"content": reply}}}})
		fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", b)
	}))
	defer srv.Close()
	env := []string{"POLICYBOT_LLM_BASE_URL=" + srv.URL + "/v1", "POLICYBOT_LLM_MODEL=fake", "POLICYBOT_LLM_API_KEY=sk-x"}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		t.Setenv(k, v)
	}
	code, out, errOut := runCmd(t, "", "eval", "--llm", "--data-dir", t.TempDir(), devSetPath)
	if code != 0 {
		t.Fatalf("eval --llm: %d %s", code, errOut)
	}
	if !strings.Contains(out, "model                calls map[ok:") || !strings.Contains(out, "ungrounded:") {
		t.Errorf("report lacks the model figures:\n%s", out)
	}
	os.Unsetenv("POLICYBOT_LLM_MODEL")
	if code, _, errOut := runCmd(t, "", "eval", "--llm", "--data-dir", t.TempDir(), devSetPath); code != 2 {
		t.Errorf("--llm without a model: %d %s", code, errOut)
	}
}

// `fit` fits the confidence model and compares it, set by set, with the
// confidence in force.
func TestFitReportsEachSetLeftOut(t *testing.T) {
	code, out, errOut := runCmd(t, "", "fit", "../../knowledge/testdata/qa-check.jsonl", "../../knowledge/testdata/qa-check2.jsonl")
	if code != 0 {
		t.Fatalf("fit: %d %s", code, errOut)
	}
	for _, want := range []string{"qa-check.jsonl", "qa-check2.jsonl", "mean", "fitted on all: {\"bias\":"} {
		if !strings.Contains(out, want) {
			t.Errorf("fit output lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := runCmd(t, "", "fit", "../../knowledge/testdata/qa-check.jsonl"); code != 2 {
		t.Errorf("fit with one set: %d, want a usage error", code)
	}
}
