from jiesu.cli import main

main()
