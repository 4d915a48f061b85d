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
	floorFactHit = 0.75
	floorRefusal = 0.78
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
