// storm: W workers spawn (fork+exec+wait) /bin/true as fast as they can for S
// seconds, then print how many processes they started. The load for bench/overhead.sh.
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long worker(double seconds)
{
	char *argv[] = { "true", NULL };
	double end = now() + seconds;
	long n = 0;
	pid_t pid;

	while (now() < end) {
		if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) != 0)
			continue;
		waitpid(pid, NULL, 0);
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	int workers = argc > 1 ? atoi(argv[1]) : 2;
	double seconds = argc > 2 ? atof(argv[2]) : 5;
	int fds[2];
	long total = 0, n;
	double t0;

	if (workers < 1 || seconds <= 0 || pipe(fds) != 0) {
		fprintf(stderr, "usage: storm WORKERS SECONDS\n");
		return 2;
	}
	t0 = now();
	for (int i = 0; i < workers; i++) {
		if (fork() == 0) {
			n = worker(seconds);
			if (write(fds[1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
	}
	close(fds[1]);
	while (read(fds[0], &n, sizeof(n)) == sizeof(n))
		total += n;
	while (wait(NULL) > 0)
		;
	printf("%ld %.3f\n", total, now() - t0);
	return 0;
}
