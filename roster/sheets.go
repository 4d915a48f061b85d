package roster

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Columns of each sheet, in order.
var Columns = map[string][]string{
	SheetPeople:   {"姓名", "手机号", "角色", "乡镇", "村", "标签"},
	SheetPairings: {"帮扶责任人手机号", "户主姓名", "户编号", "乡镇", "村"},
	SheetTasks:    {"编号", "问题", "整改措施", "责任人手机号", "责任领导手机号", "完成期限", "乡镇", "村"},
}

// optional columns may be missing from the header.
var optional = map[string]bool{"户编号": true, "标签": true}

// Parsed is a read roster with each item's row, and the rows that could
// not be read at all.
type Parsed struct {
	Roster
	Rows Rows
	Bad  []RowError
}

// MaxRows bounds the rows of one sheet (a county's roster has a few
// thousand); a larger sheet is refused before it is read further.
const MaxRows = 20000

// xlsxOptions read cell values as stored and bound what the workbook may
// expand to (a sheet's XML past UnzipXMLSizeLimit is streamed from a
// temporary file, not held in memory).
var xlsxOptions = excelize.Options{RawCellValue: true, UnzipSizeLimit: 256 << 20, UnzipXMLSizeLimit: 16 << 20}

// ReadXLSX reads the sheets 人员, 结对 and 整改任务 (any may be absent;
// none present is an error), row by row. Dates are read from the cell's
// value, so an Excel date and a typed date both work. Its errors are
// written for the official who gave the file.
func ReadXLSX(r io.Reader) (*Parsed, error) {
	f, err := excelize.OpenReader(r, xlsxOptions)
	if err != nil && strings.Contains(err.Error(), "unzip size exceeds") {
		return nil, fmt.Errorf("工作簿解压后超过 %d MB，太大了：请分成几个文件导入（每张表最多 %d 行）", xlsxOptions.UnzipSizeLimit>>20, MaxRows)
	}
	if err != nil {
		return nil, errors.New("这不是能打开的 Excel 工作簿（.xlsx），可能已损坏，或是旧的 .xls 改了名字")
	}
	defer f.Close()
	p := &Parsed{}
	found := 0
	for _, sheet := range []string{SheetPeople, SheetPairings, SheetTasks} {
		idx, err := f.GetSheetIndex(sheet)
		if err != nil || idx < 0 {
			continue
		}
		rows, err := f.Rows(sheet)
		if err != nil {
			return nil, fmt.Errorf("「%s」表读不出来（%v）", sheet, err)
		}
		found++
		err = p.addRows(sheet, func() ([]string, error) {
			if !rows.Next() {
				if err := rows.Error(); err != nil {
					return nil, err
				}
				return nil, io.EOF
			}
			return rows.Columns(xlsxOptions)
		})
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("工作簿里没有「%s」「%s」「%s」中的任何一张表（它有：%s）",
			SheetPeople, SheetPairings, SheetTasks, strings.Join(f.GetSheetList(), "、"))
	}
	return p, nil
}

// SheetOfFile names the sheet a .csv file holds, from its name
// (人员.csv, 2026结对.csv).
func SheetOfFile(name string) (string, bool) {
	base := filepath.Base(name)
	for _, s := range []string{SheetPeople, SheetPairings, SheetTasks} {
		if strings.Contains(base, s) {
			return s, true
		}
	}
	return "", false
}

// ReadCSV adds one sheet's rows from CSV (UTF-8, with or without BOM).
func (p *Parsed) ReadCSV(sheet string, r io.Reader) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	first := true
	return p.addRows(sheet, func() ([]string, error) {
		row, err := cr.Read()
		if err == nil && first && len(row) > 0 {
			row[0] = strings.TrimPrefix(row[0], "\ufeff")
		}
		first = false
		return row, err
	})
}

// addRows reads a sheet from next (io.EOF at its end): the header row,
// then the rows, at most MaxRows.
func (p *Parsed) addRows(sheet string, next func() ([]string, error)) error {
	header, err := next()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("「%s」表读不出来（%v）", sheet, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	var missing []string
	for _, c := range Columns[sheet] {
		if _, ok := col[c]; !ok && !optional[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("「%s」表的第一行缺少这些列：%s（应有：%s）", sheet, strings.Join(missing, "、"), strings.Join(Columns[sheet], "、"))
	}
	for rowNo := 2; ; rowNo++ {
		row, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("「%s」表第 %d 行读不出来（%v）", sheet, rowNo, err)
		}
		if rowNo > MaxRows+1 {
			return fmt.Errorf("「%s」表超过 %d 行，请分成几个文件导入", sheet, MaxRows)
		}
		cell := func(name string) string {
			i, ok := col[name]
			if !ok || i >= len(row) {
				return ""
			}
			return strings.TrimSpace(row[i])
		}
		if strings.TrimSpace(strings.Join(row, "")) == "" {
			continue
		}
		bad := func(format string, a ...any) {
			p.Bad = append(p.Bad, RowError{sheet, rowNo, fmt.Sprintf(format, a...)})
		}
		phone := func(name string) (string, bool) {
			v := cell(name)
			ph, ok := NormalizePhone(v)
			if !ok {
				bad("%s %q 不是 11 位手机号", name, v)
			}
			return ph, ok
		}
		need := func(names ...string) bool {
			for _, n := range names {
				if cell(n) == "" {
					bad("%s 不能为空", n)
					return false
				}
			}
			return true
		}
		switch sheet {
		case SheetPeople:
			if !need("姓名", "角色") {
				continue
			}
			ph, ok := phone("手机号")
			if !ok {
				continue
			}
			role := cell("角色")
			if !validRole(role) {
				bad("角色 %q 不认识，应为 %s 之一", role, strings.Join(Roles, "、"))
				continue
			}
			p.People = append(p.People, Person{Name: cell("姓名"), Phone: ph, Role: role, Town: cell("乡镇"), Village: cell("村"), Tags: splitTags(cell("标签"))})
			p.Rows.People = append(p.Rows.People, rowNo)
		case SheetPairings:
			if !need("户主姓名") {
				continue
			}
			ph, ok := phone("帮扶责任人手机号")
			if !ok {
				continue
			}
			p.Pairings = append(p.Pairings, Pairing{HelperPhone: ph, Household: cell("户主姓名"), HouseholdID: cell("户编号"), Town: cell("乡镇"), Village: cell("村")})
			p.Rows.Pairings = append(p.Rows.Pairings, rowNo)
		case SheetTasks:
			if !need("编号", "问题", "完成期限") {
				continue
			}
			owner, ok1 := phone("责任人手机号")
			leader, ok2 := phone("责任领导手机号")
			due, err := ParseDate(cell("完成期限"))
			if err != nil {
				bad("完成期限: %v", err)
			}
			if !ok1 || !ok2 || err != nil {
				continue
			}
			p.Tasks = append(p.Tasks, Task{ID: cell("编号"), Problem: cell("问题"), Measure: cell("整改措施"), OwnerPhone: owner,
				LeaderPhone: leader, Due: due, Town: cell("乡镇"), Village: cell("村")})
			p.Rows.Tasks = append(p.Rows.Tasks, rowNo)
		}
	}
	return nil
}

// WriteXLSX writes a roster in the import format, one sheet per part.
func WriteXLSX(w io.Writer, r Roster) error {
	f := excelize.NewFile()
	defer f.Close()
	sheets := []struct {
		name string
		rows [][]string
	}{
		{SheetPeople, nil}, {SheetPairings, nil}, {SheetTasks, nil},
	}
	for _, p := range r.People {
		sheets[0].rows = append(sheets[0].rows, []string{p.Name, p.Phone, p.Role, p.Town, p.Village, strings.Join(p.Tags, "、")})
	}
	for _, p := range r.Pairings {
		sheets[1].rows = append(sheets[1].rows, []string{p.HelperPhone, p.Household, p.HouseholdID, p.Town, p.Village})
	}
	for _, t := range r.Tasks {
		sheets[2].rows = append(sheets[2].rows, []string{t.ID, t.Problem, t.Measure, t.OwnerPhone, t.LeaderPhone, t.Due, t.Town, t.Village})
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": phone numbers stay text
	if err != nil {
		return err
	}
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			return err
		}
		_ = f.SetColStyle(s.name, "A:H", text)
		all := append([][]string{Columns[s.name]}, s.rows...)
		for n, row := range all {
			cells := make([]any, len(row))
			for j, v := range row {
				cells[j] = v
			}
			addr, _ := excelize.CoordinatesToCellName(1, n+1)
			if err := f.SetSheetRow(s.name, addr, &cells); err != nil {
				return fmt.Errorf("roster: write %s: %w", s.name, err)
			}
		}
		_ = f.SetColWidth(s.name, "A", "H", 16)
	}
	return f.Write(w)
}

// ErrNoSheets is returned for a file that is neither .xlsx nor a named .csv.
var ErrNoSheets = errors.New("roster: give a .xlsx workbook or .csv files named 人员, 结对 or 整改任务")

// splitTags reads "党员、网格员" (separated by 、 , ， ; or spaces).
func splitTags(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == '、' || r == ',' || r == '，' || r == ';' || r == '；' || r == ' ' }) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
