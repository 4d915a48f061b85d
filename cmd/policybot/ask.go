package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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
	c := newCommand("ask", stderr)
	asJSON := c.Bool("json", false, "print JSON (one object per question)")
	l, code := c.load(args, needKB)
	if code != 0 {
		return code
	}
	if c.NArg() != 1 {
		return c.usage(`usage: policybot ask [--json] "问题"   (or --json - to read questions from standard input)`)
	}
	cfg, kb := l.cfg, l.kb
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	asker := &handlers.Asker{KB: func() *knowledge.Base { return kb }, Unanswered: newFileUnanswered(cfg.DataDir), Logger: logger}
	// the bot's path, model included: with llm_model set the answer is the
	// model's when grounded, within the same passive wait; there is nobody
	// to send a late follow-up to here
	writer, err := newWriter(cfg, nil, nil, false)
	if err != nil {
		return c.fail(err)
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
	if c.Arg(0) == "-" {
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
	a := answer(c.Arg(0))
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
