package knowledge

import (
	"strings"
	"testing"
)

// Faults found, quoted bare, read like rules: an answer drawn from a list
// of problems says so; one drawn from the measures does not.
func TestAnswerFromProblemsFoundSaysSo(t *testing.T) {
	doc := "某县整改方案\n\n一、存在的主要问题\n\n部分村存在扶贫贷款利息一次性扣除现象，群众反映强烈。\n\n二、整改措施\n\n扶贫贷款利息由财政按季度贴息，不得一次性扣除。\n\n三、工作要求\n\n1.资金监管不严\n\n村里公益岗位工资发放迟缓，台账登记不规范。\n"
	dir := mustWrite(t, map[string][]byte{"方案.txt": []byte(doc)})
	b, _, err := Load(Options{Dirs: []string{dir}, NoDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]Role{}
	for _, p := range b.Passages() {
		roles[p.Section()] = p.Role
	}
	for sec, want := range map[string]Role{"一、存在的主要问题": RoleProblem, "二、整改措施": RoleRule, "三、工作要求 › 1.资金监管不严": RoleProblem} {
		if roles[sec] != want {
			t.Errorf("%s: role %v, want %v (%v)", sec, roles[sec], want, roles)
		}
	}
	a := b.Answer("扶贫贷款利息一次性扣除的现象存在吗")
	if !a.Answered || !strings.HasPrefix(a.Text, textProblemNote) {
		t.Errorf("an answer from the problems found: %q", a.Text)
	}
	a = b.Answer("扶贫贷款利息由财政按季度贴息吗")
	if !a.Answered || strings.Contains(a.Text, textProblemNote) {
		t.Errorf("an answer from the measures: %q", a.Text)
	}
}
