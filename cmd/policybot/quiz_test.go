package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"policybot/handlers"
	"policybot/quiz"
)

func writeBook(t *testing.T, path string, rows [][]any) {
	t.Helper()
	f := excelize.NewFile()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// import is all or nothing; a re-import updates in place; export shows
// the imported questions; report writes a workbook with the figures.
func TestQuizCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	head := []any{}
	for _, c := range quiz.Columns {
		head = append(head, c)
	}
	f0 := "000_0f4e317a7dc85b4e.txt"
	good := []any{"T1", "单选", "驻村干部每月住村不少于几天？", "15天", "20天", "", "", "", "", "B", "省定不少于20天。", f0, "按省定每月不少于20天", "驻村", 1}
	bad := []any{"T2", "单选", "编的", "甲", "乙", "", "", "", "", "A", "解析", f0, "每月不少于15天", "驻村", 1}
	mixed := filepath.Join(dir, "mixed.xlsx")
	writeBook(t, mixed, [][]any{head, good, bad})
	code, out, errOut := runCmd(t, "", "quiz", "import", "--data-dir", data, mixed)
	if code != 1 || !strings.Contains(errOut, "第 3 行") || !strings.Contains(errOut, "nothing was imported") {
		t.Fatalf("bad file: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCmd(t, "", "quiz", "export", "--json", "--data-dir", data)
	if code != 0 || strings.Contains(out, `"T1"`) {
		t.Fatalf("a question of a refused file was stored: %d", code)
	}
	var shipped []quiz.Question
	json.Unmarshal([]byte(out), &shipped)
	okFile := filepath.Join(dir, "ok.xlsx")
	writeBook(t, okFile, [][]any{head, good})
	if code, out, errOut := runCmd(t, "", "quiz", "import", "--data-dir", data, okFile); code != 0 || !strings.Contains(out, "1 new, 0 updated") {
		t.Fatalf("good file: %d %q %q", code, out, errOut)
	}
	if code, out, _ := runCmd(t, "", "quiz", "import", "--data-dir", data, okFile); code != 0 || !strings.Contains(out, "0 new, 1 updated") {
		t.Fatalf("re-import: %d %q", code, out)
	}
	code, out, _ = runCmd(t, "", "quiz", "export", "--json", "--data-dir", data)
	var all []quiz.Question
	if err := json.Unmarshal([]byte(out), &all); err != nil || len(all) != len(shipped)+1 {
		t.Fatalf("export after import: %d questions (%v), want %d", len(all), err, len(shipped)+1)
	}

	// seed answers and build the report
	cfg := defaultConfig()
	cfg.DataDir = data
	st, err := openStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	loc := handlers.ChinaTime()
	at := time.Date(2026, 11, 17, 10, 0, 0, 0, loc)
	for i, a := range []quiz.AnswerRecord{
		{User: "u1", Name: "张三", QID: "Q001", Topic: "驻村", Correct: true, At: at, Village: "金家村", Town: "马街镇"},
		{User: "u2", QID: "Q001", Topic: "驻村", Correct: false, At: at, Village: "金家村", Town: "马街镇"},
		{User: "u2", QID: "Q002", Topic: "帮扶", Correct: true, At: at.AddDate(0, 0, 20), Village: "金家村", Town: "马街镇"},
	} {
		b, _ := json.Marshal(a)
		day := a.At.Format("2006-01-02")
		if err := st.PutRecord(context.Background(), handlers.KindQuizAnswer, day+"/seed"+string(rune('a'+i)), b, handlers.IndexEntry{Name: "day", Value: day}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	xl := filepath.Join(dir, "report.xlsx")
	code, out, errOut = runCmd(t, "", "quiz", "report", "--data-dir", data, "--from", "2026-11-16", "--to", "2026-11-22", "--xlsx", xl)
	if code != 0 || !strings.Contains(out, "马街镇/金家村") || !strings.Contains(out, "50.0%") {
		t.Fatalf("report: %d %q %q", code, out, errOut)
	}
	b, err := os.ReadFile(xl)
	if err != nil {
		t.Fatal(err)
	}
	book, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := book.GetRows("概览")
	if len(rows) != 2 || rows[1][1] != "2" || rows[1][2] != "2" || rows[1][3] != "1" {
		t.Errorf("概览 = %q (the answer of 12-07 is outside the period)", rows)
	}
	if code, _, _ := runCmd(t, "", "quiz", "report", "--data-dir", data, "--from", "2026-11-22", "--to", "2026-11-01"); code != 2 {
		t.Errorf("reversed period: exit %d", code)
	}
}

func TestAdminCreate(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := runCmd(t, "a long enough password\n", "admin", "create", "--data-dir", dir, "--user", "wang"); code != 0 || !strings.Contains(out, "created wang (admin)") {
		t.Fatalf("%d %q %q", code, out, errOut)
	}
	if code, _, errOut := runCmd(t, "short\n", "admin", "create", "--data-dir", dir, "--user", "li"); code != 1 || !strings.Contains(errOut, "at least 10") {
		t.Errorf("short password: %d %q", code, errOut)
	}
	if code, _, _ := runCmd(t, "", "admin", "create", "--data-dir", dir); code != 2 {
		t.Errorf("no user: %d", code)
	}
}
