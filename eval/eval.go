// Package eval grades the knowledge base's answers against labelled
// question sets (the format of ../shared/eval/qa-dev.jsonl): the figures
// `policybot eval` prints, the refusal-threshold sweep, and the
// leave-one-set-out fit of a confidence model (`policybot fit`). It asks
// through handlers.Asker, the path the bot answers by.
package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"policybot/handlers"
	"policybot/knowledge"
)

// Report holds the figures `policybot eval` prints.
type Report struct {
	Questions      int                  `json:"questions"`
	Answerable     int                  `json:"answerable"`
	FactHits       int                  `json:"fact_hits"`
	FactHitRate    float64              `json:"fact_hit_rate"`
	SourceFileHits int                  `json:"source_file_hits"`
	SourceFileRate float64              `json:"source_file_hit_rate"`
	Unanswerable   int                  `json:"unanswerable"`
	Refused        int                  `json:"refused"`
	RefusalRate    float64              `json:"refusal_rate"`
	OverLimit      int                  `json:"answers_over_2048_bytes"`
	LatencyP50US   int64                `json:"latency_p50_us"`
	LatencyP99US   int64                `json:"latency_p99_us"`
	ByKind         map[string]*KindLine `json:"by_kind"`
	Threshold      float64              `json:"threshold"`
	// ChoicesOffered counts refusals that would offer topics to pick
	// (猜你想问); they count as not answered.
	ChoicesOffered int        `json:"choices_offered"`
	Misses         []Miss     `json:"misses,omitempty"`
	LLM            *LLMCounts `json:"llm,omitempty"`
	Sweep          []Scored   `json:"-"`
}

// KindLine is the figure of one kind of question (fact, list, …).
type KindLine struct {
	N     int     `json:"n"`
	Right int     `json:"right"`
	Rate  float64 `json:"rate"`
}

// Miss is one question graded wrong.
type Miss struct {
	ID       string   `json:"id"`
	Q        string   `json:"q"`
	Must     []string `json:"must"`
	Answered bool     `json:"answered"`
	Score    float64  `json:"score"`
	Text     string   `json:"text"`
}

// Scored is one question answered with no threshold, for calibration.
type Scored struct {
	Score        float64
	Hit          bool // facts present when answered
	Unanswerable bool
}

func ReadFile(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var items []Item
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	line := 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var it Item
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if it.Q == "" {
			return nil, fmt.Errorf("%s:%d: no question (q)", path, line)
		}
		items = append(items, it)
	}
	return items, sc.Err()
}

// Run answers every item through the same path as the bot and grades
// it; writer, when not nil, writes the answers with a model whose
// figures go to counts (the writer's and its model's metrics).
func Run(ctx context.Context, kb *knowledge.Base, items []Item, writer *handlers.Writer, counts *LLMCounts) *Report {
	asker := &handlers.Asker{KB: func() *knowledge.Base { return kb }}
	if writer != nil {
		asker.Writer = writer
	}
	open := kb.WithMinConfidence(-1)
	rep := &Report{Questions: len(items), ByKind: map[string]*KindLine{}, Threshold: kb.MinConfidence()}
	var lat []int64
	for _, it := range items {
		start := time.Now()
		r := asker.Ask(ctx, "", it.Q)
		lat = append(lat, time.Since(start).Microseconds())
		if !r.Answered && len(kb.Answer(it.Q).Choices) > 0 {
			rep.ChoicesOffered++
		}
		ok := Graded(it, r.Answered, r.Text)
		kl := rep.ByKind[it.Kind]
		if kl == nil {
			kl = &KindLine{}
			rep.ByKind[it.Kind] = kl
		}
		kl.N++
		if ok {
			kl.Right++
		}
		if len(r.Text) > knowledge.MaxReplyBytes {
			rep.OverLimit++
		}
		if it.Unanswerable() {
			rep.Unanswerable++
			if !r.Answered {
				rep.Refused++
			}
		} else {
			rep.Answerable++
			if ok {
				rep.FactHits++
			}
			if r.Answered {
				for _, s := range r.Sources {
					if s.File == it.Doc {
						rep.SourceFileHits++
						break
					}
				}
			}
		}
		if !ok {
			rep.Misses = append(rep.Misses, Miss{ID: it.ID, Q: it.Q, Must: it.Must, Answered: r.Answered, Score: r.Score, Text: r.Text})
		}
		a := open.Answer(it.Q)
		rep.Sweep = append(rep.Sweep, Scored{Score: a.Score, Hit: Graded(it, true, a.Text), Unanswerable: it.Unanswerable()})
	}
	if writer != nil && counts != nil {
		counts.Used = counts.Calls["ok"] - sumFallbacks(counts.Fallbacks, "ungrounded", "echo", "empty")
		rep.LLM = counts
	}
	rep.FactHitRate = ratio(rep.FactHits, rep.Answerable)
	rep.SourceFileRate = ratio(rep.SourceFileHits, rep.Answerable)
	rep.RefusalRate = ratio(rep.Refused, rep.Unanswerable)
	for _, kl := range rep.ByKind {
		kl.Rate = ratio(kl.Right, kl.N)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		rep.LatencyP50US = lat[len(lat)*50/100]
		rep.LatencyP99US = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return rep
}

// LLMCounts are the model's figures over an evaluation run.
type LLMCounts struct {
	Calls     map[string]int `json:"calls"`
	Used      int            `json:"model_answers_used"`
	Fallbacks map[string]int `json:"fallbacks"` // ungrounded = grounding-check rejections
	Tokens    int            `json:"tokens"`
}

// NewLLMCounts returns empty counts to give the model and the writer as
// their metrics.
func NewLLMCounts() *LLMCounts {
	return &LLMCounts{Calls: map[string]int{}, Fallbacks: map[string]int{}}
}

func (c *LLMCounts) Call(outcome string, _ time.Duration, p, q int) {
	if c.Calls == nil {
		c.Calls = map[string]int{}
	}
	c.Calls[outcome]++
	c.Tokens += p + q
}
func (c *LLMCounts) Fallback(reason string) { c.Fallbacks[reason]++ }
func (c *LLMCounts) FollowUp(string)        {}

func sumFallbacks(m map[string]int, keys ...string) int {
	n := 0
	for _, k := range keys {
		n += m[k]
	}
	return n
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Calibrate sweeps the refusal threshold in steps of 0.01 and returns the
// one whose neighbourhood (±calibrateWindow) has the best mean of fact-hit
// rate + refusal rate. Smoothing matters: on a set of ~90 questions the raw
// optimum is often a one-step spike that would not hold on new questions.
func Calibrate(s []Scored) (best float64, table []string) {
	type pt struct{ t, hit, ref, sum float64 }
	var pts []pt
	var nA, nU int
	for _, x := range s {
		if x.Unanswerable {
			nU++
		} else {
			nA++
		}
	}
	for i := 0; i <= 100; i++ {
		t := float64(i) / 100
		var hits, refused int
		for _, x := range s {
			answered := x.Score >= t
			if x.Unanswerable && !answered {
				refused++
			}
			if !x.Unanswerable && answered && x.Hit {
				hits++
			}
		}
		p := pt{t, ratio(hits, nA), ratio(refused, nU), 0}
		p.sum = p.hit + p.ref
		pts = append(pts, p)
	}
	smooth := func(i int) float64 {
		var sum float64
		n := 0
		for j := i - calibrateWindow; j <= i+calibrateWindow; j++ {
			if j >= 0 && j < len(pts) {
				sum += pts[j].sum
				n++
			}
		}
		return sum / float64(n)
	}
	bestI, bestS := 0, -1.0
	for i := range pts {
		if s := smooth(i); s > bestS+1e-9 {
			bestI, bestS = i, s
		}
	}
	best = pts[bestI].t
	for i, p := range pts {
		if i%5 == 0 || i == bestI {
			table = append(table, fmt.Sprintf("%.2f\t%.1f%%\t%.1f%%\t%.3f\t%.3f", p.t, 100*p.hit, 100*p.ref, p.sum, smooth(i)))
		}
	}
	return best, table
}

// calibrateWindow is the half-width, in 0.01 steps, of the smoothing.
const calibrateWindow = 3
