"""What lets the app run on one machine without Azure: ARM simulator, Azurite, dev host."""
