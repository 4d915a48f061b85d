package eval

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// WriteText prints the report as `policybot eval` shows it.
func (r *Report) WriteText(w io.Writer) {
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
