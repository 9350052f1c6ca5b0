from generator.cli import main

if __name__ == "__main__":  # a spawned worker imports this module; it must not run the CLI again
    main()
