package knowledge

// Features describe the evidence behind an answer, each in [0,1] and read
// from the question and its best passages relative to each other or to the
// question itself, not from raw scores, so that adding documents to the
// base moves them little. `policybot fit` fits a confidence model on them
// and compares it with the confidence in force (Answer.Score).
type Features struct {
	// Coverage is the weighted share of the question's content the best
	// passage (with its heading path and title) covers.
	Coverage float64 `json:"coverage"`
	// Strength is the best passage's BM25 score relative to the score the
	// question's own terms could reach (each once, in a passage of average
	// length), capped at 1.
	Strength float64 `json:"strength"`
	// Margin is how far the best passage leads the second in the rerank:
	// (best − second) / best.
	Margin float64 `json:"margin"`
	// Predicate is the share of a yes/no question's predicate the best
	// passage covers (1 for other questions).
	Predicate float64 `json:"predicate"`
	// Phrase is the share of the question's three-character runs the best
	// passage holds verbatim.
	Phrase float64 `json:"phrase"`
	// Typed is 1 when the question asks for a kind of fact (a figure, a
	// date, an actor, a list…) and the chosen sentences have it, 0 when it
	// asks and they do not, 0.5 when it asks for nothing in particular.
	Typed float64 `json:"typed"`
}

func (f Features) vector() [6]float64 {
	return [6]float64{f.Coverage, f.Strength, f.Margin, f.Predicate, f.Phrase, f.Typed}
}

// Vector returns the features in the order of the fields (for fitting).
func (f Features) Vector() []float64 { v := f.vector(); return v[:] }
