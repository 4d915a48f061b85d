package main

import (
	"fmt"
	"io"

	"policybot/knowledge"
)

// loadKB loads the knowledge base for cfg, printing each skipped file to
// stderr. A broken user file is skipped; a broken embedded corpus fails.
func loadKB(cfg Config, stderr io.Writer) (*knowledge.Base, error) {
	kb, problems, err := knowledge.Load(knowledge.Options{Dirs: cfg.KBDirs, MinConfidence: cfg.MinConfidence})
	for _, p := range problems {
		fmt.Fprintf(stderr, "policybot: skipped %v\n", p)
	}
	if err != nil {
		return nil, err
	}
	return kb, nil
}
