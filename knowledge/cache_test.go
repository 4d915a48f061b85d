package knowledge

import (
	"fmt"
	"testing"
)

func TestCacheIsSharedAcrossThresholds(t *testing.T) {
	b, _, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := "退耕还林一亩地补多少钱" // refused at the calibrated threshold
	if a := b.Answer(q); a.Answered {
		t.Fatalf("answered: %s", a.Text)
	}
	open := b.WithMinConfidence(-1)
	if a := open.Answer(q); !a.Answered || a.Text == "" {
		t.Fatalf("the open base got the refused copy from the cache: %+v", a)
	}
	if a := b.Answer(q); a.Answered || a.Text != "" {
		t.Fatalf("the strict base got the open answer: %+v", a)
	}
}

func TestCacheIsBounded(t *testing.T) {
	c := newAnswerCache(8)
	for i := 0; i < 100; i++ {
		c.put(fmt.Sprint(i), Answer{Text: fmt.Sprint(i)})
	}
	if len(c.m) != 8 {
		t.Fatalf("cache holds %d entries, bound 8", len(c.m))
	}
	if _, ok := c.get("0"); ok {
		t.Error("the oldest entry survived")
	}
	if a, ok := c.get("99"); !ok || a.Text != "99" {
		t.Error("the newest entry is missing")
	}
}
