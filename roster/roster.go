// Package roster reads and checks the spreadsheets officials keep: people
// (人员), helper–household pairings (结对) and rectification tasks (整改任务).
// People are identified by mobile number. It is a leaf: it knows nothing
// of the store; handlers applies a checked roster.
package roster

import (
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Roles people can have.
const (
	RoleHelper    = "帮扶责任人"
	RoleCadre     = "驻村干部"
	RoleSecretary = "第一书记"
	RoleLeader    = "责任领导"
	RoleAdmin     = "管理员"
)

// Roles lists the valid roles.
var Roles = []string{RoleHelper, RoleCadre, RoleSecretary, RoleLeader, RoleAdmin}

// MaxHouseholds is the most households one helper may be paired with:
// 每个结对帮扶干部帮扶对象最多不超过5户.
const MaxHouseholds = 5

// Sheet names, as in the workbook (and the names of .csv files).
const (
	SheetPeople   = "人员"
	SheetPairings = "结对"
	SheetTasks    = "整改任务"
)

// Person is one member of staff.
type Person struct {
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Role    string `json:"role"`
	Town    string `json:"town"`
	Village string `json:"village"`
	// Tags group staff across roles and places (党员, 网格员, 信息员):
	// notices can go to a tag.
	Tags []string `json:"tags,omitempty"`
}

// HasTag reports whether the person carries tag.
func (p Person) HasTag(tag string) bool {
	for _, t := range p.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// Pairing is one helper responsible for one household.
type Pairing struct {
	HelperPhone string `json:"helper"`
	Household   string `json:"household"` // 户主姓名
	HouseholdID string `json:"household_id,omitempty"`
	Town        string `json:"town"`
	Village     string `json:"village"`
}

// Key identifies a pairing across imports: helper and household number,
// or helper and household name when there is no number.
func (p Pairing) Key() string {
	if p.HouseholdID != "" {
		return p.HelperPhone + "/" + p.HouseholdID
	}
	return p.HelperPhone + "/" + p.Household
}

// Task is one rectification item.
type Task struct {
	ID          string `json:"id"`
	Problem     string `json:"problem"`
	Measure     string `json:"measure"`
	OwnerPhone  string `json:"owner"`  // 责任人
	LeaderPhone string `json:"leader"` // 责任领导
	Due         string `json:"due"`    // 2026-12-01
	Town        string `json:"town"`
	Village     string `json:"village"`
}

// Roster is what one import holds; any part may be empty.
type Roster struct {
	People   []Person
	Pairings []Pairing
	Tasks    []Task
}

// RowError is a problem with one row (1-based, as spreadsheet programs
// number rows; the header is row 1).
type RowError struct {
	Sheet string
	Row   int
	Err   string
}

func (e RowError) Error() string { return fmt.Sprintf("%s 第 %d 行: %s", e.Sheet, e.Row, e.Err) }

var phoneRE = regexp.MustCompile(`^1[3-9]\d{9}$`)

// NormalizePhone keeps the digits of a mobile number ("138 0013 8000",
// "+86 13800138000") and reports whether it is one.
func NormalizePhone(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if r >= '０' && r <= '９' {
			b.WriteRune('0' + r - '０')
		}
	}
	p := b.String()
	if len(p) == 13 && strings.HasPrefix(p, "86") {
		p = p[2:]
	}
	return p, phoneRE.MatchString(p)
}

var (
	dateISO   = regexp.MustCompile(`^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$`)
	dateCN    = regexp.MustCompile(`^(\d{4})年(\d{1,2})月(\d{1,2})日?$`)
	excelDate = regexp.MustCompile(`^\d{5}(\.\d+)?$`)
)

// ParseDate reads 2026-12-01, 2026/12/1, 2026年12月1日 or an Excel date
// serial (46357) and returns 2026-12-01.
func ParseDate(s string) (string, error) {
	s = strings.TrimSpace(s)
	var y, m, d int
	if g := dateISO.FindStringSubmatch(s); g != nil {
		y, m, d = atoi(g[1]), atoi(g[2]), atoi(g[3])
	} else if g := dateCN.FindStringSubmatch(s); g != nil {
		y, m, d = atoi(g[1]), atoi(g[2]), atoi(g[3])
	} else if excelDate.MatchString(s) {
		f, _ := strconv.ParseFloat(s, 64)
		t := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(f))
		y, m, d = t.Year(), int(t.Month()), t.Day()
	} else {
		return "", fmt.Errorf("日期 %q 看不懂，请写成 2026-12-01、2026/12/1 或 2026年12月1日", s)
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d || y < 2000 || y > 2100 {
		return "", fmt.Errorf("日期 %q 不存在", s)
	}
	return t.Format("2006-01-02"), nil
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func validRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Existing is what the store already holds, for checks that span imports:
// people known by phone and pairings per helper (by key).
type Existing struct {
	People   map[string]Person
	Pairings map[string]map[string]bool // helper phone → pairing keys
}

// Check validates a parsed roster against itself and what exists: phones
// known (in this import or before), one helper at most MaxHouseholds
// households after the import, task ids unique, roles valid, dates
// parsed (done by the reader), required cells present. rows gives each
// item's row number for messages.
func Check(r Roster, rows Rows, ex Existing) []RowError {
	var errs []RowError
	known := map[string]Person{}
	for k, v := range ex.People {
		known[k] = v
	}
	seenPhone := map[string]int{}
	for i, p := range r.People {
		row := rows.People[i]
		if prev, dup := seenPhone[p.Phone]; dup {
			errs = append(errs, RowError{SheetPeople, row, fmt.Sprintf("手机号 %s 与第 %d 行重复", p.Phone, prev)})
			continue
		}
		seenPhone[p.Phone] = row
		known[p.Phone] = p
	}
	count := map[string]map[string]bool{}
	for h, keys := range ex.Pairings {
		count[h] = map[string]bool{}
		for k := range keys {
			count[h][k] = true
		}
	}
	seenPair := map[string]int{}
	for i, p := range r.Pairings {
		row := rows.Pairings[i]
		h, ok := known[p.HelperPhone]
		switch {
		case !ok:
			errs = append(errs, RowError{SheetPairings, row, fmt.Sprintf("帮扶责任人手机号 %s 不在人员名单里", p.HelperPhone)})
			continue
		case h.Role != RoleHelper && h.Role != RoleCadre && h.Role != RoleSecretary:
			errs = append(errs, RowError{SheetPairings, row, fmt.Sprintf("%s 的角色是%s，不是帮扶责任人", h.Name, h.Role)})
			continue
		}
		if prev, dup := seenPair[p.Key()]; dup {
			errs = append(errs, RowError{SheetPairings, row, fmt.Sprintf("与第 %d 行是同一结对", prev)})
			continue
		}
		seenPair[p.Key()] = row
		if count[p.HelperPhone] == nil {
			count[p.HelperPhone] = map[string]bool{}
		}
		count[p.HelperPhone][p.Key()] = true
		if n := len(count[p.HelperPhone]); n > MaxHouseholds {
			errs = append(errs, RowError{SheetPairings, row, fmt.Sprintf("%s 已结对 %d 户，超过每人最多 %d 户的规定", h.Name, n, MaxHouseholds)})
		}
	}
	seenTask := map[string]int{}
	for i, t := range r.Tasks {
		row := rows.Tasks[i]
		if prev, dup := seenTask[t.ID]; dup {
			errs = append(errs, RowError{SheetTasks, row, fmt.Sprintf("编号 %s 与第 %d 行重复", t.ID, prev)})
			continue
		}
		seenTask[t.ID] = row
		if _, ok := known[t.OwnerPhone]; !ok {
			errs = append(errs, RowError{SheetTasks, row, fmt.Sprintf("责任人手机号 %s 不在人员名单里", t.OwnerPhone)})
		}
		if _, ok := known[t.LeaderPhone]; !ok {
			errs = append(errs, RowError{SheetTasks, row, fmt.Sprintf("责任领导手机号 %s 不在人员名单里", t.LeaderPhone)})
		}
	}
	return errs
}

// Rows are the spreadsheet row numbers of a roster's items.
type Rows struct {
	People, Pairings, Tasks []int
}

// Example is the example workbook (example.xlsx): the three sheets with
// their columns and rows to copy; the console offers it as the template.
//
//go:embed example.xlsx
var Example []byte
