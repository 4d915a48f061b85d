package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"policybot/handlers"
)

// chromium finds Debian's Chromium; without it the browser test skips,
// except in CI, which installs it (.ci/run) and must run it.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("POLICYBOT_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is required in CI (.ci/run installs Debian's chromium)")
	}
	t.Skip("no Chromium: install Debian's chromium to run the browser test")
	return ""
}

// The officials' console and the simulator in a real browser: log in,
// import the example workbook, send a notice to a village and see its
// report, add an unanswered question as FAQ, and see the bot answer it in
// the simulator. With POLICYBOT_SCREENSHOTS=DIR the main pages are saved.
func TestBrowserConsoleAndSimulator(t *testing.T) {
	exe := chromium(t)
	srv, base := localServerWithAdmin(t)
	ctx := context.Background()

	// Chromium may still write to its profile for a moment after it is
	// told to close: a best-effort removal, not t.TempDir (which fails the
	// test when the folder is not empty yet)
	profile, err := os.MkdirTemp("", "policybot-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 20 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "zh-CN"), // as officials' browsers are: the file picker reads 选择文件
		chromedp.WindowSize(1000, 1400), chromedp.UserDataDir(profile))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	bctx, tcancel := context.WithTimeout(bctx, 90*time.Second)
	defer tcancel()

	shots := os.Getenv("POLICYBOT_SCREENSHOTS")
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			if shots == "" {
				return nil
			}
			var png []byte
			if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		})
	}
	workbook, _ := filepath.Abs("../../roster/example.xlsx")
	question := "村里的光伏电站收益怎么分"
	var flash, report, faqAnswer, bodyText, uploadError, faqFigure, pickBefore, pickAfter, auditText string
	// what the visit-reminder job does on the 26th (the example roster's
	// helper has households not visited this month)
	queueReminders := chromedp.ActionFunc(func(ctx context.Context) error {
		staff := &handlers.Staff{Store: srv.store, Remind: handlers.RemindConfig{Quiet: "off"}} // whatever the hour the test runs at
		_, err := staff.Send(ctx, time.Date(2026, 11, 26, 10, 0, 0, 0, handlers.ChinaTime()), handlers.RemindVisit)
		return err
	})
	brokenDocx := filepath.Join(t.TempDir(), "通知.docx")
	if err := os.WriteFile(brokenDocx, []byte("this is not a zip file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Run(bctx,
		// the villager asks first: not in the documents
		chromedp.Navigate(base+"/simulator?q="+question),
		chromedp.WaitVisible(`//*[contains(text(),"没有找到")]`, chromedp.BySearch),
		// log in
		chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(`input[name=user]`),
		shot("console-login"),
		chromedp.SendKeys(`input[name=user]`, "wang"),
		chromedp.SendKeys(`input[name=password]`, "a long enough password"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`#questions`),
		shot("console-dashboard"),
		// import the example workbook
		chromedp.Navigate(base+"/admin/roster"),
		chromedp.Text(`.filepick`, &pickBefore),
		chromedp.SetUploadFiles(`input[name=file]`, []string{workbook}),
		chromedp.Text(`.filepick-name`, &pickAfter),
		chromedp.Submit(`input[name=file]`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`.flash`, &flash),
		shot("console-roster"),
		// a notice to a village
		chromedp.Navigate(base+"/admin/notices"),
		chromedp.SendKeys(`input[name=title]`, "档案检查"),
		chromedp.SendKeys(`textarea[name=body]`, "周五上午检查户档资料，请帮扶干部到场。"),
		chromedp.SetValue(`select[name=kind]`, "staff"),
		chromedp.SendKeys(`input[name=town]`, "马街镇"),
		chromedp.SendKeys(`input[name=village]`, "金家村"),
		chromedp.Click(`input[name=urgent]`), // whatever the hour: not held for the quiet hours
		chromedp.Submit(`input[name=title]`),
		chromedp.WaitVisible(`//button[text()="发送"]`, chromedp.BySearch),
		chromedp.Click(`//button[text()="发送"]`, chromedp.BySearch),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`main`, &report),
		shot("console-notice"),
		// an FAQ with a figure its source does not have is refused, named
		chromedp.Navigate(base+"/admin/knowledge/faq"),
		chromedp.WaitVisible(`textarea[name=answer]`),
		chromedp.SendKeys(`textarea[name=questions]`, "下乡补助一天多少钱"),
		chromedp.SendKeys(`textarea[name=answer]`, "下乡补助每天50元，按月发放"),
		chromedp.SetValue(`select[name=file]`, "000_0f4e317a7dc85b4e.txt"),
		chromedp.Submit(`textarea[name=answer]`),
		chromedp.WaitVisible(`.error`),
		chromedp.Text(`.error`, &faqFigure),
		shot("console-faq-figure"),
		// the unanswered question becomes an FAQ
		chromedp.Navigate(base+"/admin/unanswered"),
		chromedp.Click(`//a[text()="添加为 FAQ"]`, chromedp.BySearch),
		chromedp.WaitVisible(`textarea[name=answer]`),
		chromedp.SendKeys(`textarea[name=answer]`, "光伏电站收益按村里公示的分配方案发放，具体请问村委会。"),
		chromedp.Submit(`textarea[name=answer]`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`.flash`, &faqAnswer),
		shot("console-knowledge"),
		// the other pages officials open, for the screenshots
		chromedp.Navigate(base+"/admin/deliveries"),
		chromedp.WaitVisible(`main h1`),
		shot("console-deliveries"),
		chromedp.Navigate(base+"/admin/audit"),
		chromedp.WaitVisible(`main h1`),
		chromedp.Text(`main`, &auditText),
		shot("console-audit"),
		// and the bot answers it in the simulator
		chromedp.Navigate(base+"/simulator?q="+question),
		chromedp.WaitVisible(`//*[contains(text(),"按村里公示的分配方案")]`, chromedp.BySearch),
		chromedp.Text(`body`, &bodyText),
		shot("simulator-faq"),
		// on a phone, a Word file that is no Word file is refused by name
		chromedp.EmulateViewport(412, 900),
		chromedp.Navigate(base+"/admin/knowledge"),
		chromedp.SetUploadFiles(`input[name=file]`, []string{brokenDocx}),
		chromedp.Submit(`input[name=file]`),
		chromedp.WaitVisible(`.error`),
		chromedp.Text(`.error`, &uploadError),
		shot("console-upload-error-phone"),
		chromedp.Navigate(base+"/admin/roster"),
		chromedp.WaitVisible(`table.people`),
		shot("console-roster-phone"),
		// the simulator as the demo helper: the notice sent above and a
		// visit reminder arrive as they are sent
		queueReminders,
		chromedp.Evaluate(`localStorage.setItem("policybot-sim-as", "demo-helper")`, nil),
		chromedp.Navigate(base+"/simulator"),
		chromedp.WaitVisible(`//*[contains(text(),"周五上午检查户档资料")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//*[contains(text(),"走访再次提醒")]`, chromedp.BySearch),
		shot("simulator-helper-pushed-phone"),
		chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(`.tiles`),
		shot("console-dashboard-phone"),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if !strings.Contains(faqFigure, "「50元」在所选的出处文件里找不到") {
		t.Errorf("FAQ figure error %q", faqFigure)
	}
	if !strings.Contains(uploadError, "《通知.docx》没有加入知识库：不是 Word 文档") {
		t.Errorf("upload error %q", uploadError)
	}
	// the file field speaks Chinese whatever the browser's language, and
	// names the file chosen
	if !strings.Contains(pickBefore, "选择文件") || !strings.Contains(pickBefore, "未选择文件") || pickAfter != filepath.Base(workbook) {
		t.Errorf("file field: before %q, after choosing %q", pickBefore, pickAfter)
	}
	// the audit log reads in Chinese: no action code, no system id
	for _, code := range []string{"faq_save", "roster_import", "console-"} {
		if strings.Contains(auditText, code) {
			t.Errorf("audit page shows %q:\n%s", code, auditText)
		}
	}
	if !strings.Contains(flash, "已导入 example.xlsx：8 人，9 个结对，4 项任务") {
		t.Errorf("import flash %q", flash)
	}
	if !strings.Contains(report, "已发出") || !strings.Contains(report, "发给：马街镇金家村 全部干部") {
		t.Errorf("notice report:\n%s", report)
	}
	if !strings.Contains(faqAnswer, "FAQ 已保存并生效") && !strings.Contains(faqAnswer, "知识库正在后台重建") {
		t.Errorf("FAQ flash %q", faqAnswer)
	}
	fmt.Fprint(io.Discard, bodyText)
}
