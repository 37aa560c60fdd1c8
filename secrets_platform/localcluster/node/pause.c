/*
 * The local node's pod sandbox process (localcluster/node): it holds a pod's
 * namespaces, sleeps until it is told to stop, and reaps the zombies it
 * inherits as the pod's PID 1. Built static by localcluster/node/images.py into
 * the sandbox image; no shell, no library, nothing else in that image.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) {
    (void)sig;
    _exit(0);
}

static void reap(int sig) {
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void) {
    struct sigaction on_stop = {0}, on_child = {0};
    on_stop.sa_handler = stop;
    sigaction(SIGTERM, &on_stop, NULL);
    sigaction(SIGINT, &on_stop, NULL);
    on_child.sa_handler = reap;
    on_child.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    sigaction(SIGCHLD, &on_child, NULL);
    for (;;) {
        pause();
    }
    return 0;
}
