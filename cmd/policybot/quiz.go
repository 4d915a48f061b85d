package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"policybot/handlers"
	"policybot/knowledge"
	"policybot/quiz"
)

// kindQuizQuestion holds questions imported by officials (id: question id).
const kindQuizQuestion = "quizquestion"

// loadQuizBank is the shipped bank plus the questions imported into the
// store. An imported question that no longer validates (its document was
// removed) is reported and left out rather than taking the quiz down.
func loadQuizBank(ctx context.Context, kb *knowledge.Base, st handlers.Records, warn func(error)) (*quiz.Bank, error) {
	shipped, err := quiz.Shipped()
	if err != nil {
		return nil, err
	}
	imported, err := importedQuestions(ctx, st)
	if err != nil {
		return nil, err
	}
	var ok []quiz.Question
	for _, q := range imported {
		if errs := quiz.Validate([]quiz.Question{q}, kb.FileText); len(errs) > 0 {
			warn(fmt.Errorf("imported question left out: %w", errs[0]))
			continue
		}
		ok = append(ok, q)
	}
	all, err := quiz.Merge(shipped, ok)
	if err != nil {
		return nil, err
	}
	return quiz.NewBank(all, kb.FileText)
}

func importedQuestions(ctx context.Context, st handlers.Records) ([]quiz.Question, error) {
	ids, err := st.ListRecords(ctx, kindQuizQuestion, "", 0)
	if err != nil {
		return nil, fmt.Errorf("list imported questions: %w", err)
	}
	data, err := st.GetRecords(ctx, kindQuizQuestion, ids)
	if err != nil {
		return nil, fmt.Errorf("read imported questions: %w", err)
	}
	var out []quiz.Question
	for i, d := range data {
		if d == nil {
			continue
		}
		var q quiz.Question
		if err := json.Unmarshal(d, &q); err != nil {
			return nil, fmt.Errorf("imported question %s is unreadable: %w", ids[i], err)
		}
		out = append(out, q)
	}
	return out, nil
}

// loadAnswers reads the answer records of the days from..to (inclusive).
func loadAnswers(ctx context.Context, st handlers.Records, from, to time.Time) ([]quiz.AnswerRecord, error) {
	return handlers.LoadAnswers(ctx, st, from, to)
}

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
	fs := flag.NewFlagSet("quiz "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "export: JSON (the default)")
	xlsxOut := fs.String("xlsx", "", "export/report: write a workbook to this file")
	fromS := fs.String("from", "", "report: first day (YYYY-MM-DD)")
	toS := fs.String("to", "", "report: last day, inclusive (YYYY-MM-DD)")
	village := fs.String("village", "", "report: only this village")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	_ = asJSON // JSON is the default; the flag is accepted for clarity
	cfg, st, code := configAndStore(&cf, stderr)
	if st == nil {
		return code
	}
	defer st.Close()
	kb, err := loadKB(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	fail := func(err error) int { fmt.Fprintln(stderr, "policybot:", err); return 1 }
	warn := func(err error) { fmt.Fprintln(stderr, "policybot:", err) }
	switch args[0] {
	case "export":
		bank, err := loadQuizBank(ctx, kb, st, warn)
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
		if fs.NArg() != 1 {
			fmt.Fprint(stderr, quizUsage)
			return 2
		}
		return quizImport(ctx, fs.Arg(0), kb, st, stdout, stderr)
	case "report":
		loc := handlers.ChinaTime()
		from, err1 := time.ParseInLocation("2006-01-02", *fromS, loc)
		to, err2 := time.ParseInLocation("2006-01-02", *toS, loc)
		if err1 != nil || err2 != nil || to.Before(from) {
			fmt.Fprintln(stderr, "policybot: quiz report needs --from and --to as YYYY-MM-DD, from <= to")
			return 2
		}
		bank, err := loadQuizBank(ctx, kb, st, warn)
		if err != nil {
			return fail(err)
		}
		start := time.Now()
		answers, err := loadAnswers(ctx, st, from, to)
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
		bank, err := loadQuizBank(ctx, kb, st, warn)
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
func quizImport(ctx context.Context, file string, kb *knowledge.Base, st handlers.Store, stdout, stderr io.Writer) int {
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	defer f.Close()
	shipped, err := quiz.Shipped()
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	reserved := map[string]bool{}
	for _, q := range shipped {
		reserved[q.ID] = true
	}
	qs, bad, err := quiz.ReadXLSX(f, kb.FileText, reserved)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	if len(bad) > 0 {
		for _, e := range bad {
			fmt.Fprintln(stderr, e.Error())
		}
		fmt.Fprintf(stderr, "policybot: %d bad rows in %s; nothing was imported\n", len(bad), file)
		return 1
	}
	existing, err := importedQuestions(ctx, st)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	known := map[string]bool{}
	for _, q := range existing {
		known[q.ID] = true
	}
	added := 0
	for _, q := range qs {
		b, err := json.Marshal(q)
		if err != nil {
			fmt.Fprintln(stderr, "policybot:", err)
			return 1
		}
		if err := st.PutRecord(ctx, kindQuizQuestion, q.ID, b); err != nil {
			fmt.Fprintln(stderr, "policybot: storing", q.ID+":", err)
			return 1
		}
		if !known[q.ID] {
			added++
		}
	}
	fmt.Fprintf(stdout, "imported %d questions from %s: %d new, %d updated\n", len(qs), file, added, len(qs)-added)
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
