package embedded

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"policybot/handlers"
)

// TestCrashChild is the writer half of TestKillNineLosesNoAcknowledgedWrite;
// it only runs when that test starts it as a child process.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("POLICYBOT_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestKillNineLosesNoAcknowledgedWrite")
	}
	start, _ := strconv.Atoi(os.Getenv("POLICYBOT_CRASH_START"))
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Println("open-error", err)
		os.Exit(3)
	}
	ctx := context.Background()
	out := bufio.NewWriter(os.Stdout)
	for i := start; ; i++ {
		id := fmt.Sprintf("r%07d", i)
		if err := s.PutRecord(ctx, "crash", id, []byte("data-"+id), handlers.IndexEntry{Name: "n", Value: id}); err != nil {
			fmt.Println("error", err)
			os.Exit(4)
		}
		if _, err := s.MarkSeen(ctx, "seen-"+id, time.Hour); err != nil {
			fmt.Println("error", err)
			os.Exit(4)
		}
		if _, err := s.Enqueue(ctx, "out", handlers.QueueItem{Key: id, Payload: []byte(id)}); err != nil {
			fmt.Println("error", err)
			os.Exit(4)
		}
		if _, err := s.Incr(ctx, "writes", 1); err != nil {
			fmt.Println("error", err)
			os.Exit(4)
		}
		// all four writes of i returned: they are acknowledged
		fmt.Fprintf(out, "ack %d\n", i)
		out.Flush()
	}
}

func TestKillNineLosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	next := 0
	for round := 0; round < 6; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "POLICYBOT_CRASH_DIR="+dir, "POLICYBOT_CRASH_START="+strconv.Itoa(next))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := -1
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		deadline := time.After(time.Duration(50+rng.Intn(450)) * time.Millisecond)
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				if n, ok := strings.CutPrefix(l, "ack "); ok {
					acked, _ = strconv.Atoi(n)
				} else if strings.HasPrefix(l, "error") || strings.HasPrefix(l, "open-error") {
					t.Fatalf("child: %s", l)
				}
			case <-deadline:
				cmd.Process.Signal(syscall.SIGKILL)
				deadline = nil
			}
		}
		cmd.Wait()
		if acked < next {
			t.Logf("round %d: killed before any write was acknowledged", round)
			continue
		}
		// every acknowledged write survives
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after kill -9: %v", round, err)
		}
		ctx := context.Background()
		for i := 0; i <= acked; i++ {
			id := fmt.Sprintf("r%07d", i)
			if v, err := s.GetRecord(ctx, "crash", id); err != nil || string(v) != "data-"+id {
				t.Fatalf("round %d: acknowledged record %s lost: %v", round, id, err)
			}
			if first, err := s.MarkSeen(ctx, "seen-"+id, time.Hour); err != nil || first {
				t.Fatalf("round %d: acknowledged dedup mark %s lost (first=%v, %v)", round, id, first, err)
			}
			if added, err := s.Enqueue(ctx, "out", handlers.QueueItem{Key: id}); err != nil || added {
				t.Fatalf("round %d: acknowledged queue item %s lost", round, id)
			}
		}
		if ids, _ := s.LookupRecords(ctx, "crash", "n", fmt.Sprintf("r%07d", acked)); len(ids) != 1 {
			t.Fatalf("round %d: index entry of the last acknowledged record lost", round)
		}
		if n, _ := s.Counter(ctx, "writes"); n < int64(acked+1) {
			t.Fatalf("round %d: counter %d < %d acknowledged increments", round, n, acked+1)
		}
		s.Close()
		t.Logf("round %d: killed after %d acknowledged writes; all present", round, acked+1-next)
		next = acked + 1
	}
	if next == 0 {
		t.Fatal("no round acknowledged any write: the test proved nothing")
	}
}

func TestDamagedFilesAreNamedNotReplaced(t *testing.T) {
	t.Run("database", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, DBFile), []byte(strings.Repeat("not a bbolt file ", 1000)), 0o600)
		_, err := Open(dir, Options{})
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, DBFile)) {
			t.Fatalf("Open = %v, want an error naming the file", err)
		}
		if data, _ := os.ReadFile(filepath.Join(dir, DBFile)); !strings.HasPrefix(string(data), "not a bbolt file") {
			t.Fatal("the damaged file was overwritten")
		}
	})
	t.Run("journal middle line", func(t *testing.T) {
		dir := t.TempDir()
		s := mustOpen(t, dir)
		for i := 0; i < 3; i++ {
			s.PutSession(context.Background(), fmt.Sprint("k", i), []byte("v"), time.Hour)
		}
		s.Close()
		path := filepath.Join(dir, JournalFile)
		data, _ := os.ReadFile(path)
		lines := strings.SplitAfter(string(data), "\n")
		lines[1] = "deadbeef P 1 xx yy\n"
		os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600)
		_, err := Open(dir, Options{})
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 2") {
			t.Fatalf("Open = %v, want an error naming the journal and the line", err)
		}
	})
	t.Run("journal torn last line is ignored", func(t *testing.T) {
		dir := t.TempDir()
		s := mustOpen(t, dir)
		s.PutSession(context.Background(), "kept", []byte("v"), time.Hour)
		s.Close()
		f, _ := os.OpenFile(filepath.Join(dir, JournalFile), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("1234abcd P 99") // a write cut short by a crash
		f.Close()
		s = mustOpen(t, dir)
		defer s.Close()
		if v, err := s.GetSession(context.Background(), "kept"); err != nil || string(v) != "v" {
			t.Fatalf("session before the torn line: %q %v", v, err)
		}
	})
	// What a power loss leaves, then life goes on: start, write, stop,
	// start again. Appending after the torn bytes used to glue the next
	// record to them, and the second start failed with "damaged at line N".
	t.Run("journal torn tail then more writes", func(t *testing.T) {
		dir := t.TempDir()
		s := mustOpen(t, dir)
		s.PutSession(context.Background(), "before", []byte("1"), time.Hour)
		s.Close()
		f, _ := os.OpenFile(filepath.Join(dir, JournalFile), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("1234abcd P 99 a2V5") // half a line
		f.Close()
		s = mustOpen(t, dir)
		if err := s.PutSession(context.Background(), "after", []byte("2"), time.Hour); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("second start after a torn tail: %v", err)
		}
		defer s.Close()
		for k, want := range map[string]string{"before": "1", "after": "2"} {
			if v, err := s.GetSession(context.Background(), k); err != nil || string(v) != want {
				t.Fatalf("%s = %q %v", k, v, err)
			}
		}
	})
}

func TestSecondProcessGetsAClearError(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	defer s.Close()
	_, err := Open(dir, Options{LockTimeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second Open = %v", err)
	}
}

func TestEphemeralKeysSurviveRestartAndExpire(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Now()}
	s, err := Open(dir, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.MarkSeen(ctx, "m1", time.Hour)
	s.MarkSeen(ctx, "short", time.Second)
	s.PutSession(ctx, "quiz", []byte("state"), time.Hour)
	s.PutSession(ctx, "gone", []byte("x"), time.Hour)
	s.DeleteSession(ctx, "gone")
	s.Close()
	clk.Advance(2 * time.Second)
	s, err = Open(dir, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if first, _ := s.MarkSeen(ctx, "m1", time.Hour); first {
		t.Error("dedup mark lost over a restart")
	}
	if first, _ := s.MarkSeen(ctx, "short", time.Hour); !first {
		t.Error("expired dedup mark came back after a restart")
	}
	if v, err := s.GetSession(ctx, "quiz"); err != nil || string(v) != "state" {
		t.Errorf("session lost over a restart: %q %v", v, err)
	}
	if _, err := s.GetSession(ctx, "gone"); !errors.Is(err, handlers.ErrNotFound) {
		t.Errorf("deleted session came back: %v", err)
	}
}

func TestJournalCompaction(t *testing.T) {
	old := compactAt
	compactAt = 64 << 10
	defer func() { compactAt = old }()
	dir := t.TempDir()
	clk := &fakeClock{t: time.Now()}
	s, err := Open(dir, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	big := make([]byte, 1024)
	for i := 0; i < 300; i++ {
		s.PutSession(ctx, fmt.Sprintf("old-%d", i), big, time.Second) // all expire
	}
	clk.Advance(2 * time.Second)
	s.j.mu.Lock()
	before := s.j.compacts
	s.j.mu.Unlock()
	for i := 0; ; i++ { // write until a compaction runs after the expiry
		s.PutSession(ctx, fmt.Sprintf("new-%d", i), big, time.Hour)
		s.j.mu.Lock()
		done := s.j.compacts > before
		s.j.mu.Unlock()
		if done {
			break
		}
		if i > 5000 {
			t.Fatal("no compaction after 5000 writes")
		}
	}
	s.MarkSeen(ctx, "new-last", time.Hour)
	s.Close()
	// the expired sessions are gone from the file, not just from memory
	f, _ := os.Open(filepath.Join(dir, JournalFile))
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	oldLeft, lines := 0, 0
	for sc.Scan() {
		key, _, _, err := parseJournalLine(sc.Text())
		if err != nil {
			t.Fatal(err)
		}
		lines++
		if strings.HasPrefix(key, "s\x00old-") {
			oldLeft++
		}
	}
	if oldLeft != 0 {
		t.Errorf("%d expired entries survived compaction (%d lines)", oldLeft, lines)
	}
	s, err = Open(dir, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetSession(ctx, "new-0"); err != nil {
		t.Fatalf("a live session was lost in compaction: %v", err)
	}
	if first, _ := s.MarkSeen(ctx, "new-last", time.Hour); first {
		t.Fatal("a mark written after compaction was lost")
	}
}

func mustOpen(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Live entries larger than the compaction threshold must not make every
// write rewrite the file (a bug the load test found: 18% of CPU).
func TestCompactionIsAmortisedWhenLiveDataIsLarge(t *testing.T) {
	old := compactAt
	compactAt = 16 << 10
	defer func() { compactAt = old }()
	s := mustOpen(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	big := make([]byte, 512)
	const writes = 400 // ~280 KiB of live sessions, 17x the threshold
	for i := 0; i < writes; i++ {
		if err := s.PutSession(ctx, fmt.Sprintf("live-%d", i), big, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	s.j.mu.Lock()
	n := s.j.compacts
	s.j.mu.Unlock()
	// doubling: about log2(280/16) ~ 5 compactions; rewriting on every
	// write after the threshold would be ~370
	if n > 12 {
		t.Fatalf("%d compactions for %d writes", n, writes)
	}
}
