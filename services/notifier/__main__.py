from services.notifier.worker import main

main()
