package main

import (
	"context"
	"strings"
	"testing"

	"policybot/knowledge"
)

const devSetPath = "../../knowledge/testdata/qa-dev.jsonl"

// Floors a few points under what the dev set reaches (see the README's
// figures); they keep retrieval changes from sliding back unnoticed.
const (
	floorFactHit = 0.64
	floorRefusal = 0.85
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

func TestCalibratePicksTheMiddleOfTheBestRun(t *testing.T) {
	// answerable questions score 0.6..0.9 and hit; unanswerable score 0.1..0.3
	var s []scored
	for _, v := range []float64{0.6, 0.7, 0.8, 0.9} {
		s = append(s, scored{score: v, hit: true})
	}
	for _, v := range []float64{0.1, 0.2, 0.3} {
		s = append(s, scored{score: v, unanswerable: true})
	}
	best, _ := calibrate(s)
	// every threshold in (0.30, 0.60] separates perfectly; the middle is 0.45-0.46
	if best < 0.44 || best > 0.47 {
		t.Errorf("calibrate = %.2f, want the middle of 0.31..0.60", best)
	}
}
