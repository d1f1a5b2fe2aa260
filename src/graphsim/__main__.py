from graphsim.cli import main

main()
