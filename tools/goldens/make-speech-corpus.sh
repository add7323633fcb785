#!/usr/bin/env bash
# Generates Quern's speech test corpus into the directory given as the only
# argument: English sentences spoken by espeak-ng in many voices and speeds,
# silence, a tone, noise, and the audio-format variants the decoder must
# handle (8/24/32-bit, float, WAVE_FORMAT_EXTENSIBLE, stereo, other sample
# rates, FLAC, Ogg Vorbis, MP3, an odd-sized extra chunk, a truncated file,
# zero bytes, a non-audio file), plus manifest.json describing every file.
#
# Deterministic: the same espeak-ng and sox produce the same bytes (sox runs
# with -R, its repeatable mode, and -D, no dither, wherever it re-quantises).
# Audio stays out of git; tests run this into a cache folder keyed by this
# script's hash (Tests/QuernMediaTests/Support/SpeechCorpus.swift).
# Needs: espeak-ng, sox, libsox-fmt-all (scripts/install-deps.sh installs them).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTPUT_DIRECTORY" >&2
    exit 2
fi
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
for tool in espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "make-speech-corpus: $tool is not installed" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sox=(sox -R -D -V1)
manifest=()

# json_string TEXT: TEXT as a JSON string literal.
json_string() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

# add FILE KIND EXPECT [TEXT]: a manifest entry. EXPECT is "decodes" or the
# media error code the decoder must give.
add() {
    local entry
    entry="{\"file\": $(json_string "$1"), \"kind\": $(json_string "$2"), \"expect\": $(json_string "$3")"
    if [ $# -ge 4 ]; then entry+=", \"text\": $(json_string "$4")"; fi
    manifest+=("$entry}")
}

# speak NAME VOICE SPEED PITCH TEXT: 16 kHz mono 16-bit speech.
speak() {
    local name=$1 voice=$2 speed=$3 pitch=$4 text=$5
    espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$work/$name.raw.wav" "$text"
    "${sox[@]}" "$work/$name.raw.wav" -r 16000 -b 16 -c 1 -e signed-integer "$out/$name.wav" rate -v
    add "$name.wav" speech decodes "$text"
}

speak speech01_us_short en-us 175 50 "The birch canoe slid on the smooth planks."
speak speech02_gb_m3 en-gb+m3 160 45 "Glue the sheet to the dark blue background. It is easy to tell the depth of a well."
speak speech03_scotland en-gb-scotland 150 55 "These days a chicken leg is a rare dish. Rice is often served in round bowls. The juice of lemons makes fine punch."
speak speech04_rp_f2 en-gb-x-rp+f2 180 60 "The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage. Four hours of steady work faced us."
speak speech05_caribbean en-029 140 50 "A large size in stockings is hard to sell. The boy was there when the sun rose. A rod is used to catch pink salmon."
speak speech06_nyc_m7 en-us-nyc+m7 200 40 "The source of the huge river is the clear spring. Kick the ball straight and follow through. Help the woman get back to her feet."
speak speech07_lancaster en-gb-x-gbclan 165 50 "A pot of tea helps to pass the evening. Smoky fires lack flame and heat. The soft cushion broke the man's fall. The salt breeze came across from the sea."
speak speech08_midlands_f4 en-gb-x-gbcwmd+f4 170 65 "The girl at the booth sold fifty bonds. The small pup gnawed a hole in the sock. The fish twisted and turned on the bent hook."
speak speech09_us_klatt en-us+klatt 150 50 "Press the pants and sew a button on the vest. The swan dive was far short of perfect. The beauty of the view stunned the young boy."
speak speech10_us_f1 en-us+f1 220 70 "Two blue fish swam in the tank. Her purse was full of useless trash. The colt reared and threw the tall rider. It snowed, rained, and hailed the same morning."
speak speech11_gb_slow en-gb 120 45 "Read verse out loud for pleasure. Hoist the load to your left shoulder."
speak speech12_us_fast en-us+m2 240 50 "Take the winding path to reach the lake. Note closely the size of the gas tank. Wipe the grease off his dirty face. Mend the coat before you go out."
speak speech13_gb_annie en-gb+Annie 160 60 "The wrist was badly strained and hung limp. The stray cat gave birth to kittens. The young girl gave no clear response. The meal was cooked before the bell rang."
speak speech14_us_m4 en-us+m4 175 35 "What joy there is in living. A king ruled the state in the early days. The ship was torn apart on the sharp reef. Sickness kept him home the third week."
speak speech15_scotland_f3 en-gb-scotland+f3 185 55 "The wide road shimmered in the hot sun. The lazy cow lay in the cool grass. Lift the square stone over the fence. The rope will bind the seven books at once."
speak speech16_rp_slow en-gb-x-rp 130 50 "Hop over the fence and plunge in. The friendly gang left the drug store. Mesh wire keeps chicks inside."
speak speech17_us_numbers en-us 170 50 "The train leaves at seven fifteen from platform nine. Call me back on Tuesday, the twenty third of March. It costs forty two dollars and fifty cents."
speak speech18_caribbean_m6 en-029+m6 190 45 "The frosty air passed through the coat. The crooked maze failed to fool the mouse. Adding fast leads to wrong sums. The show was a flop from the very start."
speak speech19_nyc_f5 en-us-nyc+f5 160 75 "A saw is a tool used for making boards. The wagon moved on well oiled wheels. March the soldiers past the next hill. A cup of sugar makes sweet fudge."
speak speech20_gb_tiny en-gb 170 50 "Hello there. Good morning."
speak speech21_lancaster_m1 en-gb-x-gbclan+m1 145 40 "Place a rosebush near the porch steps. Both lost their lives in the raging storm. We talked of the side show in the circus. Use a pencil to write the first draft. He ran half way to the hardware store."
speak speech22_us_paragraph en-us+m3 165 50 "Whisper is trained on many hours of speech. Small models run quickly on an ordinary computer, and their transcripts are often good enough to search a recording. Long recordings are cut into windows of thirty seconds. Each window is turned into a spectrogram, encoded once, and decoded token by token until the model predicts the end of the text."
speak speech23_long_rp en-gb-x-rp+m5 150 50 "The history of the lighthouse begins with a single fire on a hill above the harbour. Sailors watched for it on dark nights and steered away from the rocks below. Later a stone tower was built, and a keeper lived in a cottage at its foot. Every evening he climbed the narrow stairs, trimmed the wick, and polished the great lens until it shone. In storms he stayed awake all night, because a ship that missed the light could be lost in minutes. Today the lamp is electric and nobody lives in the cottage, but the tower still stands, and on clear evenings people walk up the hill to watch the beam sweep across the water."
speak speech24_us_long_fast en-us+f2 200 55 "Quern watches a folder on the disk. When a file arrives it decides what kind of file it is, reads it, and writes a result next to it. Text goes to a language model, pictures go to an image classifier, and sound goes to a speech recogniser. Every result says what was done, how long it took, and what went wrong if anything did. A crash in the middle of a job does not lose the file, because the work is claimed before it begins and finished only when the result is safely written. The speech recogniser turns the sound into a spectrogram and reads it thirty seconds at a time."

# Non-speech 16 kHz mono 16-bit.
"${sox[@]}" -n -r 16000 -b 16 -c 1 "$out/silence_5s.wav" trim 0 5
add silence_5s.wav silence decodes ""
"${sox[@]}" -n -r 16000 -b 16 -c 1 "$out/tone_440hz_4s.wav" synth 4 sine 440 gain -6
add tone_440hz_4s.wav tone decodes
"${sox[@]}" -n -r 16000 -b 16 -c 1 "$out/noise_white_5s.wav" synth 5 whitenoise gain -12
add noise_white_5s.wav noise decodes

# Format variants of one utterance (speech04, ~9 s), each named after what it tests.
base="$out/speech04_rp_f2.wav"
text4="The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage. Four hours of steady work faced us."
variant() {
    local name=$1; shift
    "${sox[@]}" "$base" "$@"
    add "$name" format decodes "$text4"
}
variant fmt_u8.wav -e unsigned-integer -b 8 "$out/fmt_u8.wav"
variant fmt_s24.wav -t wavpcm -e signed-integer -b 24 "$out/fmt_s24.wav"
variant fmt_s24_extensible.wav -e signed-integer -b 24 "$out/fmt_s24_extensible.wav"
variant fmt_s32.wav -t wavpcm -e signed-integer -b 32 "$out/fmt_s32.wav"
variant fmt_f32.wav -t wavpcm -e floating-point -b 32 "$out/fmt_f32.wav"
variant fmt_f64.wav -t wavpcm -e floating-point -b 64 "$out/fmt_f64.wav"
# Stereo: the left channel is the speech, the right the same at half level
# delayed by 10 ms, so a wrong downmix shows.
"${sox[@]}" "$base" "$work/right.wav" vol 0.5 pad 0.01 trim 0 "$(soxi -D "$base")"
"${sox[@]}" -M "$base" "$work/right.wav" "$out/fmt_stereo.wav"
add fmt_stereo.wav format decodes "$text4"
# Four channels (sox writes WAVE_FORMAT_EXTENSIBLE with a channel mask).
"${sox[@]}" -M "$base" "$work/right.wav" "$base" "$work/right.wav" "$out/fmt_quad_extensible.wav"
add fmt_quad_extensible.wav format decodes "$text4"
for rate in 8000 22050 44100 48000; do
    variant "fmt_rate_${rate}.wav" -r "$rate" "$out/fmt_rate_${rate}.wav" rate -v
done
"${sox[@]}" "$base" -r 44100 -c 2 "$out/fmt_stereo_44100.wav" rate -v remix 1 1v0.7
add fmt_stereo_44100.wav format decodes "$text4"
variant fmt_flac.flac -C 5 "$out/fmt_flac.flac"
variant fmt_vorbis.ogg -C 5 "$out/fmt_vorbis.ogg"
variant fmt_mp3.mp3 -r 16000 -C 64 "$out/fmt_mp3.mp3"

# A RIFF chunk of odd size (5 bytes + pad byte) between "fmt " and "data".
le32() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))\\x$(printf %02x $((($1 >> 16) & 255)))\\x$(printf %02x $((($1 >> 24) & 255)))"; }
odd="$out/fmt_odd_chunk.wav"
data_bytes=$(( $(stat -c %s "$base") - 44 ))
{
    printf 'RIFF'; le32 $(( 4 + 24 + 8 + 6 + 8 + data_bytes ))
    printf 'WAVE'
    head -c 36 "$base" | tail -c 24          # the 16-byte "fmt " chunk with its header
    printf 'quer'; le32 5; printf 'odd!!\0' # 5 bytes, then the pad byte
    printf 'data'; le32 "$data_bytes"
    tail -c "$data_bytes" "$base"
} > "$odd"
add fmt_odd_chunk.wav format decodes "$text4"

# Mono float32 as WAVE_FORMAT_EXTENSIBLE (sox only writes that for more than
# two channels or integer samples over 16 bits): a 40-byte "fmt " chunk whose
# sub-format GUID starts with 3 (IEEE float), then the raw samples.
le16() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))"; }
"${sox[@]}" "$base" -t f32 -e floating-point -b 32 -L "$work/float.raw"
float_bytes=$(stat -c %s "$work/float.raw")
{
    printf 'RIFF'; le32 $(( 4 + 48 + 8 + float_bytes ))
    printf 'WAVE'
    printf 'fmt '; le32 40
    le16 65534; le16 1; le32 16000; le32 64000; le16 4; le16 32
    le16 22; le16 32; le32 4
    printf '\x03\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71'
    printf 'data'; le32 "$float_bytes"
    cat "$work/float.raw"
} > "$out/fmt_f32_extensible.wav"
add fmt_f32_extensible.wav format decodes "$text4"

# Broken files.
long="$out/speech23_long_rp.wav"
head -c $(( 44 + 16000 * 2 * 8 )) "$long" > "$out/broken_truncated.wav"   # header says ~40 s, 8 s present
add broken_truncated.wav truncated decodes
: > "$out/broken_empty.wav"
add broken_empty.wav empty media.empty
printf 'This is a plain text file with a .wav name. It holds no audio at all.\n%.0s' 1 2 3 4 5 6 7 8 > "$out/broken_not_audio.wav"
add broken_not_audio.wav not_audio media.unrecognized

{
    echo "{"
    echo "  \"generator\": \"tools/goldens/make-speech-corpus.sh\","
    echo "  \"espeak_ng\": $(json_string "$(espeak-ng --version | head -1)"),"
    echo "  \"sox\": $(json_string "$(sox --version | head -1)"),"
    echo "  \"files\": ["
    for index in "${!manifest[@]}"; do
        separator=","
        [ "$index" -eq $(( ${#manifest[@]} - 1 )) ] && separator=""
        echo "    ${manifest[$index]}$separator"
    done
    echo "  ]"
    echo "}"
} > "$out/manifest.json"
