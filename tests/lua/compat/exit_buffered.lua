-- exit_buffered.lua: buffered output survives os.exit; the status is the script's.
io.write("buffered, no newline")
io.stdout:setvbuf("full")
io.write(" ...more")
os.exit(tonumber(arg[1]) or 0)
