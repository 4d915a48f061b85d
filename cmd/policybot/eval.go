package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"policybot/handlers"
	"policybot/knowledge"
)

// evalReport holds the figures `policybot eval` prints.
type evalReport struct {
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
	ByKind         map[string]*kindLine `json:"by_kind"`
	Threshold      float64              `json:"threshold"`
	// ChoicesOffered counts refusals that would offer topics to pick
	// (猜你想问); they count as not answered.
	ChoicesOffered  int            `json:"choices_offered"`
	Misses          []evalMiss     `json:"misses,omitempty"`
	LLM             *evalLLMCounts `json:"llm,omitempty"`
	scoredForSweeps []scored
}

type kindLine struct {
	N     int     `json:"n"`
	Right int     `json:"right"`
	Rate  float64 `json:"rate"`
}

type evalMiss struct {
	ID       string   `json:"id"`
	Q        string   `json:"q"`
	Must     []string `json:"must"`
	Answered bool     `json:"answered"`
	Score    float64  `json:"score"`
	Text     string   `json:"text"`
}

// scored is one question answered with no threshold, for calibration.
type scored struct {
	score        float64
	hit          bool // facts present when answered
	unanswerable bool
}

func readEvalFile(path string) ([]evalItem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var items []evalItem
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	line := 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var it evalItem
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

// runEval answers every item through the same path as the bot and grades.
func runEval(ctx context.Context, kb *knowledge.Base, items []evalItem, writer ...*handlers.Writer) *evalReport {
	asker := &handlers.Asker{KB: func() *knowledge.Base { return kb }}
	var counts *evalLLMCounts
	if len(writer) > 0 && writer[0] != nil {
		asker.Writer = writer[0]
		counts = &evalLLMCounts{Fallbacks: map[string]int{}}
		writer[0].Metrics = counts
	}
	open := kb.WithMinConfidence(-1)
	rep := &evalReport{Questions: len(items), ByKind: map[string]*kindLine{}, Threshold: kb.MinConfidence()}
	var lat []int64
	for _, it := range items {
		start := time.Now()
		r := asker.Ask(ctx, "", it.Q)
		lat = append(lat, time.Since(start).Microseconds())
		if !r.Answered && len(kb.Answer(it.Q).Choices) > 0 {
			rep.ChoicesOffered++
		}
		ok := graded(it, r.Answered, r.Text)
		kl := rep.ByKind[it.Kind]
		if kl == nil {
			kl = &kindLine{}
			rep.ByKind[it.Kind] = kl
		}
		kl.N++
		if ok {
			kl.Right++
		}
		if len(r.Text) > knowledge.MaxReplyBytes {
			rep.OverLimit++
		}
		if it.unanswerable() {
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
			rep.Misses = append(rep.Misses, evalMiss{ID: it.ID, Q: it.Q, Must: it.Must, Answered: r.Answered, Score: r.Score, Text: r.Text})
		}
		a := open.Answer(it.Q)
		rep.scoredForSweeps = append(rep.scoredForSweeps, scored{score: a.Score, hit: graded(it, true, a.Text), unanswerable: it.unanswerable()})
	}
	if counts != nil {
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

// evalLLMCounts are the model's figures over an evaluation run.
type evalLLMCounts struct {
	Calls     map[string]int `json:"calls"`
	Used      int            `json:"model_answers_used"`
	Fallbacks map[string]int `json:"fallbacks"` // ungrounded = grounding-check rejections
	Tokens    int            `json:"tokens"`
}

func (c *evalLLMCounts) Call(outcome string, _ time.Duration, p, q int) {
	if c.Calls == nil {
		c.Calls = map[string]int{}
	}
	c.Calls[outcome]++
	c.Tokens += p + q
}
func (c *evalLLMCounts) Fallback(reason string) { c.Fallbacks[reason]++ }
func (c *evalLLMCounts) FollowUp(string)        {}

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

// calibrate sweeps the refusal threshold in steps of 0.01 and returns the
// one whose neighbourhood (±calibrateWindow) has the best mean of fact-hit
// rate + refusal rate. Smoothing matters: on a set of ~90 questions the raw
// optimum is often a one-step spike that would not hold on new questions.
func calibrate(s []scored) (best float64, table []string) {
	type pt struct{ t, hit, ref, sum float64 }
	var pts []pt
	var nA, nU int
	for _, x := range s {
		if x.unanswerable {
			nU++
		} else {
			nA++
		}
	}
	for i := 0; i <= 100; i++ {
		t := float64(i) / 100
		var hits, refused int
		for _, x := range s {
			answered := x.score >= t
			if x.unanswerable && !answered {
				refused++
			}
			if !x.unanswerable && answered && x.hit {
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

func cmdEval(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	showMisses := fs.Bool("misses", false, "list every question graded wrong")
	doCalibrate := fs.Bool("calibrate", false, "also sweep the refusal threshold and print the best one")
	withLLM := fs.Bool("llm", false, "write answers with the configured model (llm_model) and report grounding rejections")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: policybot eval [--json] [--misses] [--calibrate] FILE.jsonl")
		return 2
	}
	cfg, err := cf.load(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	items, err := readEvalFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "policybot: eval:", err)
		return 1
	}
	kb, err := loadKB(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	var writer *handlers.Writer
	if *withLLM {
		if writer, err = newWriter(cfg, nil, nil); err != nil || writer == nil {
			fmt.Fprintln(stderr, "policybot: --llm needs llm_model (POLICYBOT_LLM_MODEL), llm_base_url and llm_api_key:", err)
			return 2
		}
		// wait for every answer; no follow-ups, no limits in a batch run
		writer.Passive, writer.FollowUp, writer.PerUserPerMinute, writer.PerMinute = time.Duration(cfg.LLMTimeout), false, 1<<30, 1<<30
		defer writer.Close()
	}
	rep := runEval(ctx, kb, items, writer)
	if !*showMisses {
		rep.Misses = nil
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return 1
		}
		return 0
	}
	printReport(stdout, rep)
	if *doCalibrate {
		best, table := calibrate(rep.scoredForSweeps)
		fmt.Fprintln(stdout, "\nthreshold sweep (threshold, fact-hit, refusal, sum, smoothed sum):")
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, l := range table {
			fmt.Fprintln(tw, l)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "best threshold: %.2f (in force: %.2f)\n", best, kb.MinConfidence())
	}
	return 0
}

func printReport(w io.Writer, r *evalReport) {
	fmt.Fprintf(w, "questions            %d (answerable %d, unanswerable %d)\n", r.Questions, r.Answerable, r.Unanswerable)
	fmt.Fprintf(w, "fact-hit rate        %.1f%% (%d/%d)\n", 100*r.FactHitRate, r.FactHits, r.Answerable)
	if r.LLM != nil {
		fmt.Fprintf(w, "model                calls %v, answers used %d, tokens %d\n", r.LLM.Calls, r.LLM.Used, r.LLM.Tokens)
		fmt.Fprintf(w, "extractive instead   %v (ungrounded = grounding-check rejections)\n", r.LLM.Fallbacks)
	}
	fmt.Fprintf(w, "source-file hit rate %.1f%% (%d/%d)\n", 100*r.SourceFileRate, r.SourceFileHits, r.Answerable)
	fmt.Fprintf(w, "refusal rate         %.1f%% (%d/%d)\n", 100*r.RefusalRate, r.Refused, r.Unanswerable)
	fmt.Fprintf(w, "choices offered      %d (refusals that offer 2–3 topics to pick; counted as not answered)\n", r.ChoicesOffered)
	fmt.Fprintf(w, "over 2048 bytes      %d\n", r.OverLimit)
	fmt.Fprintf(w, "latency              p50 %dµs, p99 %dµs\n", r.LatencyP50US, r.LatencyP99US)
	fmt.Fprintf(w, "threshold            %.2f\n\n", r.Threshold)
	kinds := make([]string, 0, len(r.ByKind))
	for k := range r.ByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "kind\tn\tright\trate")
	for _, k := range kinds {
		kl := r.ByKind[k]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\n", k, kl.N, kl.Right, 100*kl.Rate)
	}
	tw.Flush()
	for _, m := range r.Misses {
		fmt.Fprintf(w, "\nMISS %s %s must=%v answered=%v score=%.2f\n%s\n", m.ID, m.Q, m.Must, m.Answered, m.Score, m.Text)
	}
}
