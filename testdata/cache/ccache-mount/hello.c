#include <stdio.h>
int main(void) { puts("ccache ok"); return 0; }
