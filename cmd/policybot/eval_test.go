package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

const devSetPath = "../../knowledge/testdata/qa-dev.jsonl"

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
