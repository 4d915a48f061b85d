package knowledge

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"sort"
	"strings"
)

// Optional semantic retrieval. The knowledge base does no I/O: a caller
// that has an embedding model embeds the passages (EmbedText, keyed by
// EmbedKey for a cache) and hands the vectors to WithVectors, then passes
// each question's vector to AnswerVec. Passages found by meaning are
// fused with the lexical ranking by reciprocal rank before the rerank; the
// confidence and every check on the answer stay as they are.

// EmbedText is what is embedded for passage i: its document title,
// heading path and text.
func (b *Base) EmbedText(i int) string {
	p := b.passages[i]
	return p.Doc.Title + " " + strings.Join(p.Path, " ") + " " + p.Text
}

// EmbedKey identifies EmbedText(i) (a hash of it), for caching vectors.
func (b *Base) EmbedKey(i int) string {
	h := sha256.Sum256([]byte(b.EmbedText(i)))
	return hex.EncodeToString(h[:12])
}

// WithVectors returns a copy of b that also ranks passages by meaning:
// vecs[i] is passage i's vector (nil: that passage is found lexically
// only). It panics when len(vecs) is not the number of passages.
func (b *Base) WithVectors(vecs [][]float32) *Base {
	if len(vecs) != len(b.passages) {
		panic("knowledge: WithVectors needs one vector (or nil) per passage")
	}
	c := *b
	c.vecs = make([][]float32, len(vecs))
	for i, v := range vecs {
		c.vecs[i] = unitVector(v)
	}
	c.cache = newAnswerCache(answerCacheSize) // answers may differ now
	return &c
}

// HasVectors reports whether WithVectors gave b any vector.
func (b *Base) HasVectors() bool {
	for _, v := range b.vecs {
		if v != nil {
			return true
		}
	}
	return false
}

// AnswerVec is Answer with the question's vector: with vectors on both
// sides, passages close in meaning join the lexical candidates. A nil
// qvec (the model failed or timed out) or a base without vectors answers
// exactly as Answer.
func (b *Base) AnswerVec(question string, qvec []float32) Answer {
	if qvec == nil || !b.HasVectors() {
		return b.Answer(question)
	}
	c := *b
	c.qvec = unitVector(qvec)
	c.cache = nil // an answer with a vector is not the lexical one: not cached
	return c.Answer(question)
}

// vectorPool is how many passages the vector ranking contributes; rrfK is
// the reciprocal-rank constant (60, as in the RRF paper).
const (
	vectorPool = 10
	rrfK       = 60
)

// fuse merges lexical hits (BM25 order) with the passages nearest qvec by
// reciprocal rank. A passage only the vectors found keeps a BM25 score of
// 0: the rerank and the confidence still judge it by its words.
func (b *Base) fuse(lex []hit) []hit {
	type near struct {
		doc int
		cos float64
	}
	var ns []near
	for i, v := range b.vecs {
		if v != nil && len(v) == len(b.qvec) {
			ns = append(ns, near{i, dot(v, b.qvec)})
		}
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i].cos > ns[j].cos })
	if len(ns) > vectorPool {
		ns = ns[:vectorPool]
	}
	score := map[int]float64{}
	bm25 := map[int]float64{}
	for r, h := range lex {
		score[h.doc] += 1.0 / float64(rrfK+r+1)
		bm25[h.doc] = h.score
	}
	for r, n := range ns {
		score[n.doc] += 1.0 / float64(rrfK+r+1)
	}
	out := make([]hit, 0, len(score))
	for d := range score {
		out = append(out, hit{doc: d, score: bm25[d]})
	}
	sort.Slice(out, func(i, j int) bool {
		if score[out[i].doc] != score[out[j].doc] {
			return score[out[i].doc] > score[out[j].doc]
		}
		return out[i].doc < out[j].doc
	})
	if len(out) > rerankPool {
		out = out[:rerankPool]
	}
	return out
}

func unitVector(v []float32) []float32 {
	if len(v) == 0 {
		return nil
	}
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return nil
	}
	n := float32(1 / math.Sqrt(s))
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x * n
	}
	return out
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}
