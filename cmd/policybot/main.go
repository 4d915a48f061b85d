// Command policybot runs the policy bot and its tools. Run it without
// arguments for the list of commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `policybot: rural policy answers, quizzes and reminders on WeChat.

Usage:
  policybot serve [--listen ADDR]              run the WeChat callback (local mode with a simulator
                                               when no WeChat account is configured)
  policybot menu push [--file menu.json]       create the official account's custom menu
  policybot loadtest [--duration 10s]          measure serve against a bare SDK server, signed like WeChat
  policybot deliverbench [--n 10000]           measure the delivery pipeline: fake API failing 20%, a worker process killed
  policybot ask [--json] [--kb DIR] "问题"     answer one question as a WeChat user would see it
  policybot ask --json -                       answer one question per line of standard input
  policybot eval [--calibrate] FILE.jsonl      grade the answers against a question set
  policybot kb [--passages]                    list the loaded documents and passages
  policybot quiz export|import|report|daily    the question bank, imports from .xlsx, 知晓率 figures
  policybot roster import|export|invite         staff, pairings and tasks from spreadsheets; binding codes
  policybot remind [--dry-run] [--at T] [--json] the reminders due at a moment; without --dry-run, send them
  policybot deliveries [--failed]              what went out, and what did not and why
  policybot admin create --user NAME          a console account (password on standard input); console at /admin/
  policybot store check                        open the configured store and prove it works
  policybot config                             print the effective settings (secrets masked)

Common flags:
  --config FILE   settings file (JSON); every setting can also come from
                  the environment as POLICYBOT_<SETTING>
  --kb DIR        add a folder of documents, FAQ and synonyms (repeatable)
  --data-dir DIR  where policybot keeps its data (default ./data)

Storage (file or environment): POLICYBOT_STORE=embedded|redis, POLICYBOT_DATA_DIR,
POLICYBOT_REDIS_URL, POLICYBOT_REDIS_PREFIX, POLICYBOT_REDIS_TIMEOUT (see README).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit code: 0 on
// success, 1 on failure, 2 on a usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func(context.Context, []string, io.Reader, io.Writer, io.Writer) int{
		"ask":            cmdAsk,
		"eval":           cmdEval,
		"fit":            cmdFit,
		"kb":             cmdKB,
		"store":          cmdStore,
		"config":         cmdConfig,
		"serve":          cmdServe,
		"menu":           cmdMenu,
		"loadtest":       cmdLoadtest,
		"quiz":           cmdQuiz,
		"roster":         cmdRoster,
		"remind":         cmdRemind,
		"deliveries":     cmdDeliveries,
		"deliverbench":   cmdDeliverBench,
		"admin":          cmdAdmin,
		"deliver-worker": cmdDeliverWorker,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "policybot: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	return cmd(ctx, args[1:], stdin, stdout, stderr)
}
