package handlers

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"policybot/knowledge"
)

// KindEmbedding caches passage vectors in the store: id model:key (see
// knowledge.Base.EmbedKey), data the float32s little-endian. A passage
// whose text is unchanged is never embedded twice, on any instance.
const KindEmbedding = "embedding"

// Embedder turns texts into vectors (llm.Embedder).
type Embedder interface {
	Model() string
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// Knowledge is the knowledge base in force: the shipped corpus, the
// configured folders and what was added from the console (in the store).
// Reload swaps in a new base; every reader takes it through Load, so a
// reload never changes a base under a question being answered.
type Knowledge struct {
	// Options are the folders and the refusal threshold; Extra is set
	// from Store at each reload.
	Options knowledge.Options
	Store   KBStore
	Logger  *slog.Logger
	// Embedder, when set, gives every base loaded its passages' vectors,
	// cached in Vectors.
	Embedder Embedder
	Vectors  Records

	base    atomic.Pointer[knowledge.Base]
	version atomic.Int64
	mu      sync.Mutex
}

// Load is the base in force (nil before Set or a first Reload).
func (h *Knowledge) Load() *knowledge.Base { return h.base.Load() }

// Set puts kb in force (the files alone, before the store answers).
func (h *Knowledge) Set(kb *knowledge.Base) { h.base.Store(kb) }

// Reload builds the knowledge base again with the store's additions. A
// broken addition is logged and left out; a store that does not answer
// keeps the base in force.
func (h *Knowledge) Reload(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	log := logOr(h.Logger)
	v, _ := h.Store.Version(ctx)
	extra, err := h.Store.FS(ctx)
	if err != nil {
		return fmt.Errorf("knowledge from the store: %w", err)
	}
	opts := h.Options
	opts.Extra = extra
	kb, problems, err := knowledge.Load(opts)
	for _, p := range problems {
		log.Warn("knowledge: file left out", "file", p.File, "err", p.Err)
	}
	if err != nil {
		return err
	}
	if h.Embedder != nil {
		var verr error
		if kb, verr = WithVectors(ctx, kb, h.Embedder, h.Vectors); verr != nil && !kb.HasVectors() {
			log.Error("knowledge: passages not embedded; answering by words until the next reload", "err", verr)
		} else if verr != nil {
			log.Warn("knowledge: passage vectors in use but not cached; they are embedded again at the next reload", "err", verr)
		}
	}
	h.base.Store(kb)
	h.version.Store(v)
	return nil
}

// ReloadIfChanged reloads when another instance (or the console) changed
// the stored knowledge.
func (h *Knowledge) ReloadIfChanged(ctx context.Context) error {
	v, err := h.Store.Version(ctx)
	if err != nil || v == h.version.Load() {
		return err
	}
	return h.Reload(ctx)
}

// WithVectors gives kb its passages' vectors, read from the store's cache
// or embedded (and cached) now. When the model cannot be reached, kb is
// returned as it is: answers are found by words alone.
func WithVectors(ctx context.Context, kb *knowledge.Base, e Embedder, rec Records) (*knowledge.Base, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	n := len(kb.Passages())
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.Model() + ":" + kb.EmbedKey(i)
	}
	cached, err := rec.GetRecords(ctx, KindEmbedding, ids)
	if err != nil {
		cached = make([][]byte, n) // the cache is down: embed them all
	}
	vecs := make([][]float32, n)
	var missing []int
	for i, b := range cached {
		if v := decodeVector(b); v != nil {
			vecs[i] = v
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		texts := make([]string, len(missing))
		for k, i := range missing {
			texts[k] = kb.EmbedText(i)
		}
		got, err := e.Embed(ctx, texts)
		if err != nil {
			return kb, fmt.Errorf("embed %d passages: %w", len(missing), err)
		}
		for k, i := range missing {
			vecs[i] = got[k]
			if err := rec.PutRecord(ctx, KindEmbedding, ids[i], encodeVector(got[k])); err != nil && !errors.Is(err, context.Canceled) {
				err = fmt.Errorf("cache passage vectors: %w", err)
				return kb.WithVectors(vecs), err // usable now, embedded again next time
			}
		}
	}
	return kb.WithVectors(vecs), nil
}

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	if len(b) == 0 || len(b)%4 != 0 {
		return nil
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
