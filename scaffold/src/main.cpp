// scaffold: command-line entry point (placeholder until the scaffold commands land).
int main() { return 0; }
