from roomsync.cli import main

main()
