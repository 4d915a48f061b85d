package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"policybot/eval"
	"policybot/handlers"
)

func cmdEval(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("eval", stderr)
	asJSON := c.Bool("json", false, "print the report as JSON")
	showMisses := c.Bool("misses", false, "list every question graded wrong")
	doCalibrate := c.Bool("calibrate", false, "also sweep the refusal threshold and print the best one")
	withLLM := c.Bool("llm", false, "write answers with the configured model (llm_model) and report grounding rejections")
	l, code := c.load(args, needKB)
	if code != 0 {
		return code
	}
	if c.NArg() != 1 {
		return c.usage("usage: policybot eval [--json] [--misses] [--calibrate] FILE.jsonl")
	}
	items, err := eval.ReadFile(c.Arg(0))
	if err != nil {
		return c.fail(fmt.Errorf("eval: %w", err))
	}
	var writer *handlers.Writer
	counts := eval.NewLLMCounts()
	if *withLLM {
		if writer, err = newWriter(l.cfg, nil, counts, true); err != nil || writer == nil {
			fmt.Fprintln(stderr, "policybot: --llm needs llm_model (POLICYBOT_LLM_MODEL), llm_base_url and llm_api_key:", err)
			return 2
		}
		defer writer.Close()
	}
	rep := eval.Run(ctx, l.kb, items, writer, counts)
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
	rep.WriteText(stdout)
	if *doCalibrate {
		best, table := eval.Calibrate(rep.Sweep)
		fmt.Fprintln(stdout, "\nthreshold sweep (threshold, fact-hit, refusal, sum, smoothed sum):")
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, l := range table {
			fmt.Fprintln(tw, l)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "best threshold: %.2f (in force: %.2f)\n", best, l.kb.MinConfidence())
	}
	return 0
}

// cmdFit fits the confidence model (eval.Model) on labelled sets and
// reports, for each set, how the model does on it when fitted on the
// others (leave one set out): the estimate for questions nobody fitted on.
func cmdFit(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("fit", stderr)
	l, code := c.load(args, needKB)
	if code != 0 {
		return code
	}
	if c.NArg() < 2 {
		return c.usage("usage: policybot fit [--kb DIR] SET.jsonl SET.jsonl ...")
	}
	var sets []eval.Set
	for _, path := range c.Args() {
		items, err := eval.ReadFile(path)
		if err != nil {
			return c.fail(fmt.Errorf("fit: %w", err))
		}
		sets = append(sets, eval.Set{Name: filepath.Base(path), Points: eval.Points(l.kb, items)})
	}
	fmt.Fprintln(stdout, "left out                      fitted model         confidence in force  (model and thresholds fitted on the other sets)")
	var sumHit, sumRef, sumBH, sumBR float64
	for _, r := range eval.LeaveOneOut(sets) {
		sumHit, sumRef, sumBH, sumBR = sumHit+r.Hit, sumRef+r.Refusal, sumBH+r.InForceHit, sumBR+r.InForceRef
		fmt.Fprintf(stdout, "%-28s  %6.1f%% / %6.1f%%    %6.1f%% / %6.1f%%\n", r.Set, 100*r.Hit, 100*r.Refusal, 100*r.InForceHit, 100*r.InForceRef)
	}
	k := float64(len(sets))
	fmt.Fprintf(stdout, "%-28s  %6.1f%% / %6.1f%%    %6.1f%% / %6.1f%%\n", "mean", 100*sumHit/k, 100*sumRef/k, 100*sumBH/k, 100*sumBR/k)
	var all []eval.Point
	for _, s := range sets {
		all = append(all, s.Points...)
	}
	m := eval.FitLogistic(all)
	b, _ := json.Marshal(m)
	fmt.Fprintf(stdout, "\nfitted on all: %s threshold %.2f\n", b, eval.BestThreshold(m.Prob, all))
	return 0
}
