package knowledge

import (
	"regexp"
	"unicode/utf8"
)

// Role is what a passage's section does in its document. Plans and
// inspection reports list faults found ("存在贷款利息一次性扣除现象")
// beside the measures against them; quoted bare, a fault reads like a rule.
type Role int

const (
	// RoleRule is the default: measures, standards, procedures, duties.
	RoleRule Role = iota
	// RoleProblem: a problem found, not something allowed.
	RoleProblem
)

// reProblemHeading matches a heading of faults found: 存在的问题,
// 当前存在的主要问题, 专项评估发现问题, 反馈问题, 问题清单.
var reProblemHeading = regexp.MustCompile(`(存在|发现|反馈|突出|主要|个性|共性)的?(主要)?问题|问题清单|问题表现`)

// reFaultHeading matches a heading that names a fault: 对象识别不准,
// 帮扶措施不实, 资金项目监管不严, 基础工作有待进一步加强.
var reFaultHeading = regexp.MustCompile(`(不准|不实|不严|不力|不够|不足|欠缺|不到位|不精准|不规范|滞后|薄弱|缺失|有待.{0,8}(加强|提高|提升))$`)

// reSolveProblem: a heading about solving problems is a measure
// (着力解决…问题, 抓好问题整改).
var reSolveProblem = regexp.MustCompile(`解决|整改措施|抓好|推进|落实`)

// reFault matches a sentence that states a fault, in the words official
// writing uses for one.
var reFault = regexp.MustCompile(`存在.{0,24}(现象|问题|情况|短板|漏洞)|不到位|不彻底|不规范|不扎实|不精准|不严格|不及时|有欠缺|力度不大|进展缓慢|流于形式|走过场|弄虚作假|人为划线|搞平均|一发了之|一股了之|未落实|没有落实|没有做到|达不到`)

// roleOf reads a passage's role from its heading path (a heading of
// problems found, or one that names a fault), or, when the path says
// nothing, from its sentences: most of them stating faults.
func roleOf(p *Passage) Role {
	for _, h := range p.Path {
		if (reProblemHeading.MatchString(h) || reFaultHeading.MatchString(h)) && !reSolveProblem.MatchString(h) {
			return RoleProblem
		}
	}
	faults, counted := 0, 0
	for _, s := range p.Sentences {
		if utf8.RuneCountInString(s) < 6 {
			continue
		}
		counted++
		if reFault.MatchString(s) {
			faults++
		}
	}
	if counted > 0 && 2*faults > counted {
		return RoleProblem
	}
	return RoleRule
}

// statesFault reports whether a sentence states a fault found.
func statesFault(s string) bool { return reFault.MatchString(s) }

// textProblemNote opens an answer drawn from a list of faults found, so
// that nobody reads the fault as permission.
const textProblemNote = "提醒：下面这段是文件里列出的、检查发现要改正的问题，不是政策允许的做法。\n"
