package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"policybot/handlers"
	"policybot/knowledge"
)

// askJSON is one line of `ask --json` output.
type askJSON struct {
	Answered  bool               `json:"answered"`
	Text      string             `json:"text"`
	Sources   []knowledge.Source `json:"sources"`
	Score     float64            `json:"score"`
	LatencyUS int64              `json:"latency_us"`
}

func cmdAsk(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ask", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON (one object per question)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, `usage: policybot ask [--json] "问题"   (or --json - to read questions from standard input)`)
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
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	asker := &handlers.Asker{KB: func() *knowledge.Base { return kb }, Unanswered: newFileUnanswered(cfg.DataDir), Logger: logger}
	// the bot's path, model included: with llm_model set the answer is the
	// model's when grounded, within the same passive wait; there is nobody
	// to send a late follow-up to here
	writer, err := newWriter(cfg, nil, nil)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	if writer != nil {
		writer.Logger, writer.FollowUp = logger, false
		defer writer.Close()
		asker.Writer = writer
	}
	answer := func(q string) askJSON {
		start := time.Now()
		r := asker.Ask(ctx, "cli", q)
		return askJSON{Answered: r.Answered, Text: r.Text, Sources: nonNil(r.Sources), Score: r.Score, LatencyUS: time.Since(start).Microseconds()}
	}
	if fs.Arg(0) == "-" {
		if !*asJSON {
			fmt.Fprintln(stderr, "policybot: reading questions from standard input needs --json")
			return 2
		}
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if err := enc.Encode(answer(strings.TrimSpace(sc.Text()))); err != nil {
				fmt.Fprintln(stderr, "policybot:", err)
				return 1
			}
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintln(stderr, "policybot: read standard input:", err)
			return 1
		}
		return 0
	}
	a := answer(fs.Arg(0))
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(a); err != nil {
			return 1
		}
		return 0
	}
	fmt.Fprintln(stdout, a.Text)
	return 0
}

func nonNil(s []knowledge.Source) []knowledge.Source {
	if s == nil {
		return []knowledge.Source{}
	}
	return s
}
