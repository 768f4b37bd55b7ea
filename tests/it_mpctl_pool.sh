#!/bin/sh
# it_mpctl_pool.sh: pools through mpctl against a real mpmgrd, with real
# workers: submit, worker and wait (output and exit status of each job);
# map's outputs in input order and its exit status when a job fails;
# kill -9 of a worker mid-job (the job runs again on another worker, and
# the killed worker's command goes with it); kill -9 of the shell that
# submitted (the jobs still run and wait finds their results), and of a
# map without -j; SIGTERM to a worker (the running job finishes and is
# reported) and a second one (the job is killed and goes back).
#
# A job that must still be running when the test acts waits for a file
# the test makes; the test polls for the files the jobs make and for the
# pool's status. Last line "it_mpctl_pool: N passed, N failed".
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_mpctl_pool

# stat POOL KEY VALUE: `pool status`'s KEY is VALUE.
stat() {
	"$MPCTL" pool status -n "$1" | grep -qx "$2: $3"
}

# worker OUT POOL [OPTION...]: `pool worker` in the background; its pid in
# $last.
worker() {
	out=$1
	p=$2
	shift 2
	bg "$out" "$MPCTL" pool worker -n "$p" "$@"
}

# taken PID: PID has no signal pending (a signal sent to it was read
# from its signalfd: two sent at once would count as one).
taken() {
	grep -q '^ShdPnd:[[:space:]]*0*$' "/proc/$1/status"
}

# lines FILE N: FILE has N lines.
lines() {
	[ -f "$1" ] && [ "$(wc -l <"$1")" -eq "$2" ]
}

daemon_start

# --- submit, worker, wait ---------------------------------------------------

t 0 1 pool submit -n w -- sh -c 'echo one; echo err1 >&2'
t 0 2 pool submit -n w -- sh -c 'echo two; exit 3'
t 0 3 pool submit -n w --shell 'echo three'
t 0 4 pool submit -n w -- /nonexistent/command
check "four queued jobs wait" stat w queued 4
worker w1 w -j 2
w1=$last
# wait writes each job's stdout and stderr, and exits with the first
# failure's status.
"$MPCTL" pool wait -n w 1 3 >"$tmp/out" 2>"$tmp/err"
check "wait 1 3 exits 0" [ $? -eq 0 ]
check "wait 1 3 prints both outputs in order" \
    [ "$(cat "$tmp/out")" = "$(printf 'one\nthree')" ]
check "wait 1 3 passes the job's stderr on" grep -q err1 "$tmp/err"
"$MPCTL" pool wait -n w 2 4 >"$tmp/out" 2>"$tmp/err"
check "wait 2 4 exits with job 2's status" [ $? -eq 3 ]
check "wait 2 4 prints job 2's output" [ "$(cat "$tmp/out")" = two ]
tm 0 '*"failed"*"exitcode":127*' pool result -n w 4
t 0 '' pool close -n w
exits "$w1" 0 "a worker of a closed, drained pool"
check "the pool counts 2 done, 2 failed" stat w done 2
t 0 '' rm w

# --- map --------------------------------------------------------------------

seq 1 30 | "$MPCTL" pool map -n m -j 4 -- sh -c 'echo out{}' \
    >"$tmp/out" 2>"$tmp/err"
check "map exits 0" [ $? -eq 0 ]
seq 1 30 | sed 's/^/out/' >"$tmp/want"
check "map prints in input order" cmp -s "$tmp/out" "$tmp/want"
seq 1 6 | "$MPCTL" pool map -n m -j 2 -- sh -c 'echo x{}; [ {} != 4 ]' \
    >"$tmp/out" 2>"$tmp/err"
check "map exits non-zero when a job failed" [ $? -ne 0 ]
check "map still prints every output in order" \
    [ "$(tr '\n' ' ' <"$tmp/out")" = "x1 x2 x3 x4 x5 x6 " ]

# --- kill -9 of a worker mid-job -----------------------------------------------

# Attempt 1 records itself and runs until killed; attempt 2 finishes.
job='echo "$MPMGR_POOL_ATTEMPT $$" >>"$1/att"
[ "$MPMGR_POOL_ATTEMPT" -gt 1 ] || exec sleep 300
echo ran'
t 0 1 pool submit -n k -- sh -c "$job" job "$tmp"
worker k1 k -j 1
k1=$last
check "worker k1 runs the job" poll lines "$tmp/att" 1
jobpid=$(cut -d' ' -f2 "$tmp/att")
kill -9 "$k1"
reap "$k1"
check "the killed worker's job goes with it" poll gone "$jobpid"
check "the job is queued again" poll stat k queued 1
worker k2 k -j 1
k2=$last
t 0 ran pool wait -n k 1
check "it ran twice, attempts 1 and 2" \
    [ "$(cut -d' ' -f1 "$tmp/att" | tr '\n' ' ')" = "1 2 " ]
t 0 '' pool close -n k
exits "$k2" 0 "worker k2 after close"

# --- kill -9 of the submitting shell -------------------------------------------

sh -c 'for i in 1 2 3; do
	"$MPCTL" pool submit -n s -- echo "job$i" >>"$1/ids" || exit 1
done
exec sleep 300' sh "$tmp" &
sub=$!
bg_pids="$bg_pids $sub"
check "the shell submits 3 jobs" poll lines "$tmp/ids" 3
kill -9 "$sub"
reap "$sub"
worker s1 s -j 2
s1=$last
# shellcheck disable=SC2046
t 0 "$(printf 'job1\njob2\njob3')" pool wait -n s $(cat "$tmp/ids")
t 0 '' pool close -n s
exits "$s1" 0 "worker s1 after close"

# A map without -j, killed: its jobs still run on the pool's workers.
seq 1 5 | "$MPCTL" pool map -n s2 -- sh -c "touch $tmp/m{}; exec sleep 300" \
    >/dev/null 2>&1 &
map=$!
bg_pids="$bg_pids $map"
check "map submits 5 jobs" poll stat s2 queued 5
kill -9 "$map"
reap "$map"
worker s2 s2 -j 5
s2=$last
check "its jobs all run" poll stat s2 running 5
check "each made its file" poll test -e "$tmp/m5" -a -e "$tmp/m1"
t 0 '' pool terminate -n s2
exits "$s2" 0 "a terminated pool's worker"
check "terminate cancelled the 5 jobs" stat s2 cancelled 5

# --- signals to a worker ---------------------------------------------------------

job='touch "$1/started$MPMGR_POOL_ATTEMPT"
while [ ! -e "$1/go" ]; do sleep 0.01; done
echo finished'
t 0 1 pool submit -n g -- sh -c "$job" job "$tmp"
t 0 2 pool submit -n g -- echo second
worker g1 g -j 1
g1=$last
check "worker g1 runs job 1" poll test -e "$tmp/started1"
kill -TERM "$g1"
check "after SIGTERM the job still runs" stat g running 1
check "and so does its worker" alive "$g1"
touch "$tmp/go"
exits "$g1" 0 "a worker signalled once, after its job"
t 0 finished pool wait -n g 1
check "job 2 was not taken" stat g queued 1
rm -f "$tmp/go" "$tmp/started1"
t 0 3 pool submit -n g -- sh -c "$job" job "$tmp"
"$MPCTL" pool cancel -n g 2 >/dev/null
worker g2 g -j 1
g2=$last
check "worker g2 runs job 3" poll test -e "$tmp/started1"
kill -TERM "$g2"
check "worker g2 reads the first SIGTERM" poll taken "$g2"
kill -TERM "$g2"
exits "$g2" 143 "a worker signalled twice (128 + SIGTERM)"
check "job 3 is queued again" poll stat g queued 1

daemon_stop
finish
