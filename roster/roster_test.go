package roster

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite example.xlsx")

// exampleRoster is the roster of the shipped example workbook.
func exampleRoster() Roster {
	r := Roster{People: []Person{
		{"王建国", "13800000001", RoleHelper, "马街镇", "金家村", []string{"党员"}},
		{"李红梅", "13800000002", RoleHelper, "马街镇", "金家村", nil},
		{"赵志强", "13800000003", RoleHelper, "马街镇", "上谷村", nil},
		{"陈晓东", "13800000004", RoleSecretary, "马街镇", "金家村", []string{"党员"}},
		{"刘洋", "13800000005", RoleCadre, "马街镇", "金家村", []string{"党员", "网格员"}},
		{"孙丽", "13800000006", RoleSecretary, "马街镇", "上谷村", nil},
		{"周海", "13800000007", RoleLeader, "马街镇", "", nil},
		{"吴敏", "13800000008", RoleAdmin, "马街镇", "", nil},
	}}
	households := map[string][]string{
		"13800000001": {"张大山", "张小河", "李老三"},
		"13800000002": {"王桂花", "刘长顺"},
		"13800000003": {"赵老四", "孙德明", "钱二妹", "周三宝"},
	}
	for _, h := range []string{"13800000001", "13800000002", "13800000003"} {
		village := "金家村"
		if h == "13800000003" {
			village = "上谷村"
		}
		for i, name := range households[h] {
			r.Pairings = append(r.Pairings, Pairing{HelperPhone: h, Household: name, HouseholdID: fmt.Sprintf("H%s%02d", h[len(h)-1:], i+1), Town: "马街镇", Village: village})
		}
	}
	r.Tasks = []Task{
		{"ZG-001", "部分村级档案资料填写不规范", "对照目录查漏补缺，规范填写“两册一卡”", "13800000004", "13800000007", "2026-12-05", "马街镇", "金家村"},
		{"ZG-002", "个别户饮水水质检测报告无结论", "协调水务局重新检测并装入户档", "13800000005", "13800000007", "2026-11-28", "马街镇", "金家村"},
		{"ZG-003", "个别农户房屋安全认定表缺鉴定等级", "协调住建部门重新鉴定", "13800000006", "13800000007", "2026-12-15", "马街镇", "上谷村"},
		{"ZG-004", "政策明白人培养不到位", "每户培养1名长期在家的政策明白人", "13800000006", "13800000007", "2026-11-20", "马街镇", "上谷村"},
	}
	return r
}

func TestExampleWorkbook(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, exampleRoster()); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("example.xlsx", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open("example.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ReadXLSX(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Bad) > 0 || len(Check(p.Roster, p.Rows, Existing{})) > 0 {
		t.Fatalf("the example is invalid: %v %v", p.Bad, Check(p.Roster, p.Rows, Existing{}))
	}
	if fmt.Sprint(p.Roster) != fmt.Sprint(exampleRoster()) {
		t.Errorf("example.xlsx is stale; run go test ./roster -run Example -update")
	}
}

type book map[string][][]any

func (b book) bytes(t *testing.T, dates ...string) *bytes.Reader {
	t.Helper()
	f := excelize.NewFile()
	first := true
	for name, rows := range b {
		if first {
			f.SetSheetName("Sheet1", name)
			first = false
		} else {
			f.NewSheet(name)
		}
		for i, r := range rows {
			addr, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow(name, addr, &r); err != nil {
				t.Fatal(err)
			}
		}
	}
	// a real Excel date cell
	for _, cell := range dates {
		f.SetCellValue(SheetTasks, cell, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		st, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
		f.SetCellStyle(SheetTasks, cell, cell, st)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

func hdr(sheet string) []any {
	var out []any
	for _, c := range Columns[sheet] {
		out = append(out, c)
	}
	return out
}

// Every kind of bad row is reported with its sheet and row, together.
func TestEveryBadRowKind(t *testing.T) {
	b := book{
		SheetPeople: {hdr(SheetPeople),
			{"王建国", "13800000001", "帮扶责任人", "马街镇", "金家村"},
			{"李四", "1380000", "帮扶责任人", "马街镇", "金家村"},      // 3: bad phone
			{"张三", "13800000009", "村长", "马街镇", "金家村"},     // 4: unknown role
			{"重复", "138 0000 0001", "驻村干部", "马街镇", "金家村"}, // 5: duplicate phone
			{"周海", "13800000007", "责任领导", "马街镇", ""},
		},
		SheetPairings: {hdr(SheetPairings),
			{"13800000001", "户1", "", "马街镇", "金家村"},
			{"13800000001", "户2", "", "马街镇", "金家村"},
			{"13800000001", "户3", "", "马街镇", "金家村"},
			{"13800000001", "户4", "", "马街镇", "金家村"},
			{"13800000001", "户5", "", "马街镇", "金家村"},
			{"13800000001", "户6", "", "马街镇", "金家村"}, // 7: sixth household
			{"13900000000", "户7", "", "马街镇", "金家村"}, // 8: unknown helper
			{"13800000007", "户8", "", "马街镇", "金家村"}, // 9: a leader is not a helper
		},
		SheetTasks: {hdr(SheetTasks),
			{"T1", "问题", "措施", "13800000001", "13800000007", "", "马街镇", "金家村"}, // 2: date set below as an Excel date
			{"T2", "问题", "措施", "13800000001", "13800000007", "2026年12月1日", "马街镇", "金家村"},
			{"T3", "问题", "措施", "13800000001", "13800000007", "2026/2/30", "马街镇", "金家村"},  // 4: no such day
			{"T2", "问题", "措施", "13800000001", "13800000007", "2026-12-01", "马街镇", "金家村"}, // 5: duplicate id
			{"T6", "问题", "措施", "13911111111", "13800000007", "下月底", "马街镇", "金家村"},        // 6: bad date
			{"T7", "问题", "措施", "13911111111", "13800000007", "2026-12-01", "马街镇", "金家村"}, // 7: unknown owner
		},
	}
	p, err := ReadXLSX(b.bytes(t, "F2"))
	if err != nil {
		t.Fatal(err)
	}
	errs := append(p.Bad, Check(p.Roster, p.Rows, Existing{})...)
	var got []string
	for _, e := range errs {
		got = append(got, fmt.Sprintf("%s:%d", e.Sheet, e.Row))
	}
	want := []string{"人员:3", "人员:4", "整改任务:4", "整改任务:6", "人员:5", "结对:7", "结对:8", "结对:9", "整改任务:5", "整改任务:7"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("errors at\n got %v\nwant %v\n%v", got, want, errs)
	}
	if p.Tasks[0].Due != "2026-12-01" || p.Tasks[1].Due != "2026-12-01" {
		t.Errorf("dates %q %q", p.Tasks[0].Due, p.Tasks[1].Due)
	}
	// helpers already paired in the store count too
	ex := Existing{People: map[string]Person{"13800000002": {Name: "李红梅", Phone: "13800000002", Role: RoleHelper}},
		Pairings: map[string]map[string]bool{"13800000002": {"13800000002/a": true, "13800000002/b": true, "13800000002/c": true, "13800000002/d": true, "13800000002/e": true}}}
	more := Roster{Pairings: []Pairing{{HelperPhone: "13800000002", Household: "a"}, {HelperPhone: "13800000002", Household: "f"}}}
	errs = Check(more, Rows{Pairings: []int{2, 3}}, ex)
	if len(errs) != 1 || errs[0].Row != 3 {
		t.Errorf("existing pairings not counted: %v", errs)
	}
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]string{"2026-12-01": "2026-12-01", "2026/12/1": "2026-12-01", "2026年12月1日": "2026-12-01",
		"2026.12.1": "2026-12-01", "46357": "2026-12-01", " 2026-1-5 ": "2026-01-05"} {
		if got, err := ParseDate(in); err != nil || got != want {
			t.Errorf("%q → %q %v", in, got, err)
		}
	}
	for _, in := range []string{"2026-13-01", "2026-02-29", "明天", "", "12/01/2026"} {
		if _, err := ParseDate(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestReadCSV(t *testing.T) {
	p := &Parsed{}
	csv := "\ufeff姓名,手机号,角色,乡镇,村\n王建国,+86 138-0000-0001,帮扶责任人,马街镇,金家村\n"
	if err := p.ReadCSV(SheetPeople, strings.NewReader(csv)); err != nil || len(p.People) != 1 || p.People[0].Phone != "13800000001" {
		t.Fatalf("%v %+v", err, p.People)
	}
	if err := p.ReadCSV(SheetTasks, strings.NewReader("编号,问题\nT1,x\n")); err == nil || !strings.Contains(err.Error(), "责任人手机号") {
		t.Errorf("missing columns: %v", err)
	}
	if s, ok := SheetOfFile("/tmp/2026年结对.csv"); !ok || s != SheetPairings {
		t.Errorf("sheet of file: %q", s)
	}
}

// sheetWith writes a 人员 sheet of n rows (streamed, as a large export is).
func sheetWith(t testing.TB, n int, bad bool) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", SheetPeople)
	sw, err := f.NewStreamWriter(SheetPeople)
	if err != nil {
		t.Fatal(err)
	}
	sw.SetRow("A1", []any{"姓名", "手机号", "角色", "乡镇", "村"})
	for i := 0; i < n; i++ {
		phone := fmt.Sprintf("139%08d", i)
		if bad {
			phone = "12345"
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		sw.SetRow(cell, []any{fmt.Sprint("人", i), phone, RoleHelper, "马街镇", "金家村"})
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Issue 14.10: an .xlsx of 1.5 M rows was read whole (1.55 GB). A sheet
// past MaxRows is refused, in Chinese, without reading it all.
func TestSheetPastTheRowLimitIsRefused(t *testing.T) {
	data := sheetWith(t, MaxRows+5000, false)
	_, err := ReadXLSX(bytes.NewReader(data))
	if err == nil || !strings.Contains(err.Error(), "超过 20000 行") || !strings.Contains(err.Error(), SheetPeople) {
		t.Fatalf("ReadXLSX = %v", err)
	}
	p, err := ReadXLSX(bytes.NewReader(sheetWith(t, 3000, false)))
	if err != nil || len(p.People) != 3000 {
		t.Fatalf("3000 rows: %v, %d people", err, len(p.People))
	}
}
