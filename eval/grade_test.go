package eval

import "testing"

func TestGraded(t *testing.T) {
	ans := Item{Kind: "fact", Must: []string{"3-5名"}}
	if !Graded(ans, true, "每个贫困村培养3—5名致富带头人") {
		t.Error("normalised must fact not found")
	}
	if Graded(ans, false, "每个贫困村培养3-5名") {
		t.Error("a refusal counted as a hit")
	}
	if Graded(ans, true, "每个贫困村培养致富带头人") {
		t.Error("a reply without the fact counted as a hit")
	}
	una := Item{Kind: "unanswerable"}
	if !Graded(una, false, "") || Graded(una, true, "x") {
		t.Error("unanswerable grading wrong")
	}
}

func TestGradeNormalizeFollowsTheRule(t *testing.T) {
	tests := map[string]string{
		"３－５名":       "3-5名",
		"3至5名":       "3-5名",
		"5月2日到6月10日": "5月2日-6月10日",
		"2月下旬~5月20日": "2月下旬-5月20日",
		" 20 天 ":     "20天",
		"ABC":        "abc",
		"3—5":        "3-5",
		"3–5":        "3-5",
		"3～5":        "3-5",
	}
	for in, want := range tests {
		if got := gradeNormalize(in); got != want {
			t.Errorf("gradeNormalize(%q) = %q, want %q", in, got, want)
		}
	}
}
