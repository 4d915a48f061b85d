package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"policybot/handlers"
	"policybot/quiz"
)

const quizUsage = `usage:
  policybot quiz export [--json | --xlsx FILE]    print the question bank (shipped and imported)
  policybot quiz import FILE.xlsx                  check every row, then load the questions (all or nothing)
  policybot quiz report --from 2026-11-01 --to 2026-11-30 [--village 村] [--xlsx FILE]
                                                   知晓率 figures; --xlsx writes a workbook to forward
  policybot quiz daily                             put today's daily question in the outbound queue now
`

func cmdQuiz(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, quizUsage)
		return 2
	}
	c := newCommand("quiz "+args[0], stderr)
	asJSON := c.Bool("json", false, "export: JSON (the default)")
	xlsxOut := c.String("xlsx", "", "export/report: write a workbook to this file")
	fromS := c.String("from", "", "report: first day (YYYY-MM-DD)")
	toS := c.String("to", "", "report: last day, inclusive (YYYY-MM-DD)")
	village := c.String("village", "", "report: only this village")
	l, code := c.load(args[1:], needKB|needStore)
	defer l.close()
	if code != 0 {
		return code
	}
	_ = asJSON // JSON is the default; the flag is accepted for clarity
	cfg, kb, st, fail := l.cfg, l.kb, l.st, c.fail
	warn := func(err error) { fmt.Fprintln(stderr, "policybot:", err) }
	switch args[0] {
	case "export":
		bank, err := handlers.LoadQuizBank(ctx, kb, st, warn)
		if err != nil {
			return fail(err)
		}
		if *xlsxOut != "" {
			var buf bytes.Buffer
			if err := quiz.WriteXLSX(&buf, bank.Questions()); err != nil {
				return fail(err)
			}
			if err := os.WriteFile(*xlsxOut, buf.Bytes(), 0o644); err != nil {
				return fail(err)
			}
			fmt.Fprintf(stdout, "wrote %d questions to %s\n", bank.Len(), *xlsxOut)
			return 0
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", " ")
		if err := enc.Encode(bank.Questions()); err != nil {
			return fail(err)
		}
		return 0
	case "import":
		if c.NArg() != 1 {
			fmt.Fprint(stderr, quizUsage)
			return 2
		}
		return quizImport(ctx, c, c.Arg(0), l, stdout)
	case "report":
		loc := handlers.ChinaTime()
		from, err1 := time.ParseInLocation("2006-01-02", *fromS, loc)
		to, err2 := time.ParseInLocation("2006-01-02", *toS, loc)
		if err1 != nil || err2 != nil || to.Before(from) {
			fmt.Fprintln(stderr, "policybot: quiz report needs --from and --to as YYYY-MM-DD, from <= to")
			return 2
		}
		bank, err := handlers.LoadQuizBank(ctx, kb, st, warn)
		if err != nil {
			return fail(err)
		}
		start := time.Now()
		answers, err := handlers.LoadAnswers(ctx, st, from, to)
		if err != nil {
			return fail(err)
		}
		rep := quiz.BuildReport(answers, from, to.AddDate(0, 0, 1), *village, loc, bank)
		if *xlsxOut != "" {
			var buf bytes.Buffer
			if err := quiz.WriteReportXLSX(&buf, rep); err != nil {
				return fail(err)
			}
			if err := os.WriteFile(*xlsxOut, buf.Bytes(), 0o644); err != nil {
				return fail(err)
			}
		}
		printQuizReport(stdout, rep)
		if *xlsxOut != "" {
			fmt.Fprintf(stdout, "\nwrote %s (%d answers read, built in %s)\n", *xlsxOut, len(answers), time.Since(start).Round(time.Millisecond))
		}
		return 0
	case "daily":
		bank, err := handlers.LoadQuizBank(ctx, kb, st, warn)
		if err != nil {
			return fail(err)
		}
		q := &handlers.Quiz{Store: st, Bank: func() *quiz.Bank { return bank }, DailyAt: cfg.QuizDailyAt, Quiet: cfg.QuietHours}
		res, err := q.EnqueueDaily(ctx)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "question %s: %d subscribers, %d queued, not before %s\n", res.QuestionID, res.Subscribers, res.Enqueued, res.NotBefore.In(handlers.ChinaTime()).Format("2006-01-02 15:04"))
		return 0
	}
	fmt.Fprint(stderr, quizUsage)
	return 2
}

// quizImport validates every row and stores the questions only when all
// are valid; re-importing a file updates its questions in place.
func quizImport(ctx context.Context, c *command, file string, l loaded, stdout io.Writer) int {
	f, err := os.Open(file)
	if err != nil {
		return c.fail(err)
	}
	defer f.Close()
	res, err := handlers.ImportQuestions(ctx, f, l.kb, l.st)
	if err != nil {
		return c.fail(err)
	}
	if len(res.Bad) > 0 {
		for _, e := range res.Bad {
			fmt.Fprintln(c.stderr, e.Error())
		}
		return c.fail(fmt.Errorf("%d bad rows in %s; nothing was imported", len(res.Bad), file))
	}
	fmt.Fprintf(stdout, "imported %d questions from %s: %d new, %d updated\n", res.Questions, file, res.New, res.Questions-res.New)
	return 0
}

func printQuizReport(w io.Writer, rep quiz.Report) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintf(tw, "%s – %s\n", rep.From.Format("2006-01-02"), rep.To.AddDate(0, 0, -1).Format("2006-01-02"))
	section := func(title string, rows []quiz.Row) {
		fmt.Fprintf(tw, "\n%s\t参与人数\t答题次数\t答对\t知晓率\n", title)
		sorted := append([]quiz.Row(nil), rows...)
		sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
		for _, r := range sorted {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f%%\n", r.Key, r.Participants, r.Answers, r.Correct, 100*r.Rate)
		}
	}
	section("合计", []quiz.Row{rep.Total})
	section("主题", rep.ByTopic)
	section("乡镇/村", rep.ByVillage)
	section("角色", rep.ByRole)
	section("周", rep.ByWeek)
	tw.Flush()
}
