package main

import (
	"policybot/llm"
)

// newEmbedder returns the embedder for embed_model, or nil when none is set.
func newEmbedder(cfg Config) (*llm.Embedder, error) {
	if cfg.EmbedModel == "" {
		return nil, nil
	}
	return llm.NewEmbedder(llm.EmbedOptions{BaseURL: cfg.EmbedBaseURL, APIKey: cfg.EmbedAPIKey, Model: cfg.EmbedModel})
}
