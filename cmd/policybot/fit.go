package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"policybot/knowledge"
)

// confidenceModel is a logistic model of "this answer holds the facts
// asked for" over knowledge.Features (in the order of its fields).
type confidenceModel struct {
	Bias    float64    `json:"bias"`
	Weights [6]float64 `json:"weights"`
}

// fitPoint is one question of a labelled set, answered with no threshold.
type fitPoint struct {
	x            []float64
	hit          bool // answered with every fact asked for
	unanswerable bool
	zero         bool    // the hard rule refuses it whatever the model says
	score        float64 // the confidence in force (for comparison)
}

// fitSet is one labelled question set.
type fitSet struct {
	name   string
	points []fitPoint
}

// cmdFit fits the confidence model (confidenceModel) on labelled
// sets and reports, for each set, how the model does on it when fitted
// on the others (leave one set out): the estimate for questions nobody
// fitted on.
func cmdFit(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 2 {
		fmt.Fprintln(stderr, "usage: policybot fit [--kb DIR] SET.jsonl SET.jsonl ...")
		return 2
	}
	cfg, err := cf.load(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	kb, err := loadKB(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	var sets []fitSet
	for _, path := range fs.Args() {
		items, err := readEvalFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "policybot: fit:", err)
			return 1
		}
		sets = append(sets, fitSet{name: filepath.Base(path), points: fitPoints(kb, items)})
	}
	fmt.Fprintln(stdout, "left out                      fitted model         confidence in force  (model and thresholds fitted on the other sets)")
	var sumHit, sumRef, sumBH, sumBR float64
	for i := range sets {
		var train []fitPoint
		for j, s := range sets {
			if j != i {
				train = append(train, s.points...)
			}
		}
		m := fitLogistic(train)
		th := bestThreshold(m.prob, train)
		h, r := rates(m.prob, th, sets[i].points)
		bth := bestThreshold(inForce, train)
		bh, br := rates(inForce, bth, sets[i].points)
		sumHit, sumRef, sumBH, sumBR = sumHit+h, sumRef+r, sumBH+bh, sumBR+br
		fmt.Fprintf(stdout, "%-28s  %6.1f%% / %6.1f%%    %6.1f%% / %6.1f%%\n", sets[i].name, 100*h, 100*r, 100*bh, 100*br)
	}
	k := float64(len(sets))
	fmt.Fprintf(stdout, "%-28s  %6.1f%% / %6.1f%%    %6.1f%% / %6.1f%%\n", "mean", 100*sumHit/k, 100*sumRef/k, 100*sumBH/k, 100*sumBR/k)
	var all []fitPoint
	for _, s := range sets {
		all = append(all, s.points...)
	}
	m := fitLogistic(all)
	th := bestThreshold(m.prob, all)
	b, _ := json.Marshal(m)
	fmt.Fprintf(stdout, "\nfitted on all: %s threshold %.2f\n", b, th)
	return 0
}

// fitPoints answers every item with no threshold and labels it.
func fitPoints(kb *knowledge.Base, items []evalItem) []fitPoint {
	open := kb.WithMinConfidence(-1)
	var out []fitPoint
	for _, it := range items {
		a := open.Answer(it.Q)
		if a.FAQ != "" {
			continue // curated answers are not scored by the model
		}
		out = append(out, fitPoint{x: a.Features.Vector(), hit: !it.unanswerable() && graded(it, a.Answered, a.Text),
			unanswerable: it.unanswerable(), zero: a.Answered && a.Score == 0, score: a.Score})
	}
	return out
}

// fitLogistic fits a logistic model of "hit" by gradient descent with a
// little L2 regularisation (the features are all in [0,1]).
func fitLogistic(ps []fitPoint) confidenceModel {
	var m confidenceModel
	if len(ps) == 0 {
		return m
	}
	const lr, l2, steps = 1.0, 1e-3, 4000
	n := float64(len(ps))
	for step := 0; step < steps; step++ {
		var gb float64
		var gw [6]float64
		for _, p := range ps {
			z := m.Bias
			for i, x := range p.x {
				z += m.Weights[i] * x
			}
			y := 0.0
			if p.hit {
				y = 1
			}
			d := 1/(1+math.Exp(-z)) - y
			gb += d
			for i, x := range p.x {
				gw[i] += d * x
			}
		}
		m.Bias -= lr * gb / n
		for i := range m.Weights {
			m.Weights[i] -= lr * (gw[i]/n + l2*m.Weights[i])
		}
	}
	for i := range m.Weights {
		m.Weights[i] = math.Round(m.Weights[i]*1000) / 1000
	}
	m.Bias = math.Round(m.Bias*1000) / 1000
	return m
}

// scorer is a confidence for a point: a fitted model's, or the one in force.
type scorer func(fitPoint) float64

// inForce is the confidence the knowledge base uses today.
func inForce(p fitPoint) float64 { return p.score }

// prob is m's confidence for p.
func (m confidenceModel) prob(p fitPoint) float64 {
	z := m.Bias
	for i, x := range p.x {
		z += m.Weights[i] * x
	}
	return 1 / (1 + math.Exp(-z))
}

// rates are the fact-hit and refusal rates of score at threshold th.
func rates(score scorer, th float64, ps []fitPoint) (hit, refusal float64) {
	var ans, hits, un, refused int
	for _, p := range ps {
		answered := !p.zero && score(p) >= th
		if p.unanswerable {
			un++
			if !answered {
				refused++
			}
			continue
		}
		ans++
		if answered && p.hit {
			hits++
		}
	}
	if ans > 0 {
		hit = float64(hits) / float64(ans)
	}
	if un > 0 {
		refusal = float64(refused) / float64(un)
	}
	return hit, refusal
}

// bestThreshold is the threshold with the best fact-hit + refusal rate,
// smoothed over its neighbours (a lone spike is noise).
func bestThreshold(score scorer, ps []fitPoint) float64 {
	type row struct{ th, sum float64 }
	var rows []row
	for th := 0.05; th < 0.96; th += 0.01 {
		h, r := rates(score, th, ps)
		rows = append(rows, row{th, h + r})
	}
	best, bestSum := 0.5, -1.0
	for i := range rows {
		s := rows[i].sum
		if i > 0 && i+1 < len(rows) {
			s = (rows[i-1].sum + 2*rows[i].sum + rows[i+1].sum) / 4
		}
		if s > bestSum+1e-9 {
			best, bestSum = rows[i].th, s
		}
	}
	return math.Round(best*100) / 100
}
