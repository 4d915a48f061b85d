package quiz

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Columns of a question spreadsheet, in order; the first row holds them.
// 类型 is 单选, 多选 or 判断; options A–F may be left empty from the
// right; 答案 is letters (多选: "AC") or 对/错.
var Columns = []string{"编号", "类型", "题目", "A", "B", "C", "D", "E", "F", "答案", "解析", "文件", "原文", "主题", "难度", "对象"}

// audienceNames are the 对象 column's words (optional column; empty: all).
var audienceNames = map[string]string{"群众": AudienceHousehold, "干部": AudienceStaff, "": ""}

var kindNames = map[string]Kind{"单选": Single, "单选题": Single, "多选": Multi, "多选题": Multi, "判断": Judge, "判断题": Judge,
	"single": Single, "multi": Multi, "judge": Judge}

// RowError is a problem with one spreadsheet row (1-based, as the
// spreadsheet program numbers it).
type RowError struct {
	Sheet string
	Row   int
	Err   error
}

func (e RowError) Error() string { return fmt.Sprintf("%s 第 %d 行: %v", e.Sheet, e.Row, e.Err) }

// ReadXLSX reads questions from the first sheet of a workbook and checks
// every row (Validate's rules, and ids unique within the file and not
// among reserved, e.g. the shipped ids). It returns every problem with its
// row number; when there is any, the questions must not be applied.
func ReadXLSX(r io.Reader, corpus func(string) (string, bool), reserved map[string]bool) ([]Question, []RowError, error) {
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: 64 << 20, UnzipXMLSizeLimit: 16 << 20})
	if err != nil {
		return nil, nil, errors.New("这不是能打开的 Excel 工作簿（.xlsx），可能已损坏、太大，或是旧的 .xls 改了名字")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, errors.New("工作簿里没有表")
	}
	sheet := sheets[0]
	rows, err := readRows(f, sheet)
	if err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("「%s」表是空的", sheet)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimSpace(h)] = i
	}
	for _, c := range []string{"编号", "类型", "题目", "答案", "解析", "文件", "原文", "主题", "难度"} {
		if _, ok := col[c]; !ok {
			return nil, nil, fmt.Errorf("quiz: sheet %s: header row lacks column %q (columns: %s)", sheet, c, strings.Join(Columns, ", "))
		}
	}
	cell := func(row []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(row) {
			return ""
		}
		return strings.TrimSpace(row[i])
	}
	var qs []Question
	var bad []RowError
	seen := map[string]int{}
	for n, row := range rows[1:] {
		rowNo := n + 2
		if strings.TrimSpace(strings.Join(row, "")) == "" {
			continue // blank line
		}
		fail := func(err error) { bad = append(bad, RowError{Sheet: sheet, Row: rowNo, Err: err}) }
		q := Question{ID: cell(row, "编号"), Stem: cell(row, "题目"), Answer: strings.ToUpper(cell(row, "答案")),
			Explanation: cell(row, "解析"), File: cell(row, "文件"), Quote: cell(row, "原文"), Topic: cell(row, "主题")}
		kind, ok := kindNames[cell(row, "类型")]
		if !ok {
			fail(fmt.Errorf("类型 %q 应为 单选、多选 或 判断", cell(row, "类型")))
			continue
		}
		q.Kind = kind
		d, err := strconv.Atoi(cell(row, "难度"))
		if err != nil {
			fail(fmt.Errorf("难度 %q 应为 1、2 或 3", cell(row, "难度")))
			continue
		}
		q.Difficulty = d
		aud, ok := audienceNames[cell(row, "对象")]
		if !ok {
			fail(fmt.Errorf("对象 %q 应为 群众、干部 或不填", cell(row, "对象")))
			continue
		}
		q.Audience = aud
		var opts []string
		for _, l := range []string{"A", "B", "C", "D", "E", "F"} {
			opts = append(opts, cell(row, l))
		}
		for len(opts) > 0 && opts[len(opts)-1] == "" {
			opts = opts[:len(opts)-1]
		}
		if kind != Judge {
			q.Options = opts
			if a, err := parseLetters(q.Answer, len(opts)); err == nil {
				q.Answer = a // "a,c" or "CA" → "AC"
			}
		} else if len(opts) > 0 {
			fail(errors.New("判断题不填选项"))
			continue
		}
		if err := q.check(corpus); err != nil {
			fail(err)
			continue
		}
		if prev, dup := seen[q.ID]; dup {
			fail(fmt.Errorf("编号 %s 与第 %d 行重复", q.ID, prev))
			continue
		}
		if reserved[q.ID] {
			fail(fmt.Errorf("编号 %s 是内置题库的编号，请换一个", q.ID))
			continue
		}
		seen[q.ID] = rowNo
		qs = append(qs, q)
	}
	if len(qs) == 0 && len(bad) == 0 {
		return nil, nil, fmt.Errorf("quiz: sheet %s has no questions", sheet)
	}
	return qs, bad, nil
}

// audienceWord is the 对象 column's word for an audience.
func audienceWord(a string) string {
	for w, v := range audienceNames {
		if v == a {
			return w
		}
	}
	return ""
}

// MaxRows bounds the questions of one import; a larger sheet is refused
// before it is read further.
const MaxRows = 5000

// readRows reads a sheet row by row, at most MaxRows after the header.
func readRows(f *excelize.File, sheet string) ([][]string, error) {
	it, err := f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("「%s」表读不出来（%v）", sheet, err)
	}
	defer it.Close()
	var rows [][]string
	for it.Next() {
		if len(rows) > MaxRows {
			return nil, fmt.Errorf("「%s」表超过 %d 行，请分成几个文件导入", sheet, MaxRows)
		}
		row, err := it.Columns()
		if err != nil {
			return nil, fmt.Errorf("「%s」表第 %d 行读不出来（%v）", sheet, len(rows)+1, err)
		}
		rows = append(rows, row)
	}
	return rows, it.Error()
}

// WriteXLSX writes questions in the import format (a template officials
// can fill in, or the bank for review).
func WriteXLSX(w io.Writer, qs []Question) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "题库"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	rows := [][]any{toAny(Columns)}
	names := map[Kind]string{Single: "单选", Multi: "多选", Judge: "判断"}
	for _, q := range qs {
		row := []any{q.ID, names[q.Kind], q.Stem}
		for i := 0; i < MaxOptions; i++ {
			if i < len(q.Options) {
				row = append(row, q.Options[i])
			} else {
				row = append(row, "")
			}
		}
		row = append(row, q.Answer, q.Explanation, q.File, q.Quote, q.Topic, q.Difficulty, audienceWord(q.Audience))
		rows = append(rows, row)
	}
	if err := setRows(f, sheet, rows); err != nil {
		return err
	}
	return f.Write(w)
}

// WriteReportXLSX writes a report as a workbook an official can forward:
// one sheet per view, rates as percentages.
func WriteReportXLSX(w io.Writer, rep Report) error {
	f := excelize.NewFile()
	defer f.Close()
	pct, err := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return err
	}
	period := fmt.Sprintf("%s 至 %s", rep.From.Format("2006-01-02"), rep.To.AddDate(0, 0, -1).Format("2006-01-02"))
	head := []any{"", "参与人数", "答题次数", "答对次数", "知晓率(正确率)"}
	views := []struct {
		name, key string
		rows      []Row
		label     bool
	}{
		{"概览", "统计范围", []Row{rep.Total}, false},
		{"按题目", "题目编号", rep.ByQuestion, true},
		{"按主题", "主题", rep.ByTopic, false},
		{"按村", "乡镇/村", rep.ByVillage, false},
		{"按乡镇", "乡镇", rep.ByTown, false},
		{"按角色", "角色", rep.ByRole, false},
		{"按周", "周", rep.ByWeek, false},
	}
	for i, v := range views {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", v.name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(v.name); err != nil {
			return err
		}
		h := append([]any{v.key}, head[1:]...)
		if v.label {
			h = append([]any{v.key, "题目"}, head[1:]...)
		}
		rows := [][]any{h}
		for _, r := range v.rows {
			key := r.Key
			if i == 0 {
				key = period
			}
			row := []any{key}
			if v.label {
				row = append(row, r.Label)
			}
			rows = append(rows, append(row, r.Participants, r.Answers, r.Correct, r.Rate))
		}
		if err := setRows(f, v.name, rows); err != nil {
			return err
		}
		rateCol := 'E'
		if v.label {
			rateCol = 'F'
		}
		if len(rows) > 1 {
			if err := f.SetCellStyle(v.name, fmt.Sprintf("%c2", rateCol), fmt.Sprintf("%c%d", rateCol, len(rows)), pct); err != nil {
				return err
			}
		}
		_ = f.SetColWidth(v.name, "A", "A", 22)
		if v.label {
			_ = f.SetColWidth(v.name, "B", "B", 50)
		}
	}
	if _, err := f.NewSheet("周排行"); err != nil {
		return err
	}
	rows := [][]any{{"周", "乡镇", "村", "名次", "姓名", "答对题数"}}
	for _, l := range rep.Leaders {
		rows = append(rows, []any{l.Week, l.Town, l.Village, l.Rank, l.Name, l.Score})
	}
	if err := setRows(f, "周排行", rows); err != nil {
		return err
	}
	return f.Write(w)
}

func setRows(f *excelize.File, sheet string, rows [][]any) error {
	for i, row := range rows {
		addr, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			return err
		}
		if err := f.SetSheetRow(sheet, addr, &row); err != nil {
			return fmt.Errorf("quiz: write %s row %d: %w", sheet, i+1, err)
		}
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
