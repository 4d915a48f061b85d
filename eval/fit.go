package eval

import (
	"math"

	"policybot/knowledge"
)

// Model is a logistic model of "this answer holds the facts
// asked for" over knowledge.Features (in the order of its fields).
type Model struct {
	Bias    float64    `json:"bias"`
	Weights [6]float64 `json:"weights"`
}

// Point is one question of a labelled set, answered with no threshold.
type Point struct {
	x            []float64
	hit          bool // answered with every fact asked for
	unanswerable bool
	zero         bool    // the hard rule refuses it whatever the model says
	score        float64 // the confidence in force (for comparison)
}

// Set is one labelled question set.
type Set struct {
	Name   string
	Points []Point
}

// Points answers every item with no threshold and labels it.
func Points(kb *knowledge.Base, items []Item) []Point {
	open := kb.WithMinConfidence(-1)
	var out []Point
	for _, it := range items {
		a := open.Answer(it.Q)
		if a.FAQ != "" {
			continue // curated answers are not scored by the model
		}
		out = append(out, Point{x: a.Features.Vector(), hit: !it.Unanswerable() && Graded(it, a.Answered, a.Text),
			unanswerable: it.Unanswerable(), zero: a.Answered && a.Score == 0, score: a.Score})
	}
	return out
}

// fitLogistic fits a logistic model of "hit" by gradient descent with a
// little L2 regularisation (the features are all in [0,1]).
func FitLogistic(ps []Point) Model {
	var m Model
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

// Scorer is a confidence for a point: a fitted model's, or the one in force.
type Scorer func(Point) float64

// InForce is the confidence the knowledge base uses today.
func InForce(p Point) float64 { return p.score }

// prob is m's confidence for p.
func (m Model) Prob(p Point) float64 {
	z := m.Bias
	for i, x := range p.x {
		z += m.Weights[i] * x
	}
	return 1 / (1 + math.Exp(-z))
}

// rates are the fact-hit and refusal rates of score at threshold th.
func Rates(score Scorer, th float64, ps []Point) (hit, refusal float64) {
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
func BestThreshold(score Scorer, ps []Point) float64 {
	type row struct{ th, sum float64 }
	var rows []row
	for th := 0.05; th < 0.96; th += 0.01 {
		h, r := Rates(score, th, ps)
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

// LeftOut is one set's figures when the model and the thresholds are
// fitted on the other sets: the fitted model's and the confidence in
// force's.
type LeftOut struct {
	Set                    string
	Hit, Refusal           float64 // the fitted model
	InForceHit, InForceRef float64 // the confidence in force
}

// LeaveOneOut fits on all sets but one and scores the one left out, for
// each set in turn: the estimate for questions nobody fitted on.
func LeaveOneOut(sets []Set) []LeftOut {
	var out []LeftOut
	for i := range sets {
		var train []Point
		for j, s := range sets {
			if j != i {
				train = append(train, s.Points...)
			}
		}
		m := FitLogistic(train)
		h, r := Rates(m.Prob, BestThreshold(m.Prob, train), sets[i].Points)
		bh, br := Rates(InForce, BestThreshold(InForce, train), sets[i].Points)
		out = append(out, LeftOut{Set: sets[i].Name, Hit: h, Refusal: r, InForceHit: bh, InForceRef: br})
	}
	return out
}
