package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// EmbedOptions configure an Embedder.
type EmbedOptions struct {
	BaseURL string // an OpenAI-compatible endpoint: DashScope compatible mode, Ollama (/v1), OpenAI
	APIKey  string // never logged
	Model   string // e.g. text-embedding-v3, bge-m3
	Timeout time.Duration
	// Batch is how many texts go in one call (default 16).
	Batch int
	HTTP  *http.Client
}

// Embedder turns texts into vectors through the embeddings call.
type Embedder struct {
	c    *openai.Client
	opts EmbedOptions
}

// NewEmbedder returns an Embedder for opts.
func NewEmbedder(opts EmbedOptions) (*Embedder, error) {
	if opts.Model == "" {
		return nil, errors.New("llm: no embedding model configured")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Batch <= 0 {
		opts.Batch = 16
	}
	return &Embedder{c: newOpenAI(opts.BaseURL, opts.APIKey, opts.HTTP, opts.Timeout), opts: opts}, nil
}

// Model names the model (it keys the vector cache).
func (e *Embedder) Model() string { return e.opts.Model }

// Embed returns one vector per text, in order, calling the endpoint in
// batches; every call is bounded by the timeout as well as ctx.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for start := 0; start < len(texts); start += e.opts.Batch {
		end := min(start+e.opts.Batch, len(texts))
		cctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
		res, err := e.c.CreateEmbeddings(cctx, openai.EmbeddingRequestStrings{Input: texts[start:end], Model: openai.EmbeddingModel(e.opts.Model)})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("llm: embeddings: %w", err)
		}
		if len(res.Data) != end-start {
			return nil, fmt.Errorf("llm: embeddings: %d vectors for %d texts", len(res.Data), end-start)
		}
		for _, d := range res.Data {
			if d.Index < 0 || d.Index >= end-start || len(d.Embedding) == 0 {
				return nil, fmt.Errorf("llm: embeddings: a vector with index %d of %d, %d dimensions", d.Index, end-start, len(d.Embedding))
			}
			out[start+d.Index] = d.Embedding
		}
	}
	return out, nil
}

// EmbedOne embeds one text (a question).
func (e *Embedder) EmbedOne(ctx context.Context, text string) ([]float32, error) {
	vs, err := e.Embed(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return vs[0], nil
}
