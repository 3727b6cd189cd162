package testenv

import "testing"

func TestTestProcess(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, true},
		{[]string{"-test.fuzzworker", "-test.run=x"}, true},
		{[]string{"-test.paniconexit0"}, true},
		{[]string{"ar", "-c", "par.toml"}, false},
		{[]string{"demo", "--netns"}, false},
	} {
		if got := testProcess(tc.args); got != tc.want {
			t.Errorf("testProcess(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
