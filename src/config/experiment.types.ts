/* Generated from schemas/experiment.schema.json by `npm run gen:types`; do not edit. */

export type Layer =
  | Conv2DLayer
  | DepthwiseConv2DLayer
  | SeparableConv2DLayer
  | MaxPooling2DLayer
  | AveragePooling2DLayer
  | GlobalAveragePooling2DLayer
  | GlobalMaxPooling2DLayer
  | DenseLayer
  | DropoutLayer
  | FlattenLayer
  | BatchNormalizationLayer
  | ActivationLayer
  | LeakyReLULayer
  | ReshapeLayer;
/**
 * Layer name, unique in the model; sweep paths can address the layer by it (model.layers.<name>.<field>).
 */
export type LayerName = string;
/**
 * valid: no padding; same: pad so that stride 1 keeps the size.
 */
export type Padding = 'valid' | 'same';
/**
 * Activation function (tfjs name).
 */
export type ActivationName =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'elu'
  | 'selu'
  | 'tanh'
  | 'sigmoid'
  | 'hardSigmoid'
  | 'softmax'
  | 'softplus'
  | 'softsign'
  | 'swish'
  | 'mish'
  | 'gelu';
export type Augmentation = RandomFlip | RandomTranslation | RandomRotation | RandomZoom | GaussianNoise;
/**
 * The values one sweep key takes: a list of values, or a distribution that random search samples from.
 */
export type SweepAxis = SweepValues | Distribution;
/**
 * @minItems 1
 */
export type SweepValues = [
  number | string | boolean | unknown[] | {} | null,
  ...(number | string | boolean | unknown[] | {} | null)[]
];

/**
 * A runner experiment: data, a layer stack, training settings, augmentation, an optional sweep and how to search it (a grid, random sampling or ASHA). Layer entries map one to one onto tf.layers.<type>(args) with TensorFlow.js argument names.
 */
export interface Experiment {
  /**
   * Experiment name; runs are grouped and reported under it.
   */
  name: string;
  /**
   * Free text shown in reports.
   */
  description?: string;
  /**
   * Path of another experiment file, relative to this one, whose fields this file inherits: mappings merge (this file wins, null removes an inherited field), lists replace, sweep axes merge by key, and model.layers entries can edit the inherited layers (override by name or at: index, insert with after:/before:, remove: true). A file that extends another needs only its own name.
   */
  extends?: string;
  /**
   * TensorFlow.js backend to train on; the --backend flag wins over this field. auto takes tfjs-node-gpu if it uses a GPU, then webgpu on a hardware GPU adapter, then tfjs-node, then wasm. webgpu named here runs on a CPU adapter (SwiftShader) too.
   */
  backend?: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  /**
   * Run every sweep combination this many times with seeds train.seed, train.seed+1, ... so results carry a mean and a spread.
   */
  repeat?: number;
  data?: DataConfig;
  model?: ModelConfig;
  train?: TrainConfig;
  /**
   * Augmentations applied, in order, to training batches only (never to validation or test data).
   */
  augment?: Augmentation[];
  /**
   * Sweep: each key is a dotted path into this experiment (layers by name or numeric index, e.g. model.layers.drop1.rate or model.layers.0.filters), each value the list of values to try or, under search.strategy random (or asha with candidates: random), a distribution to sample from. A grid runs every combination of the lists; random search samples search.trials combinations, a list counting as a choice.
   */
  sweep?: {
    [k: string]: SweepAxis;
  };
  search?: SearchConfig;
}
/**
 * Where the images come from and how much of them to use.
 */
export interface DataConfig {
  /**
   * Dataset name.
   */
  dataset?: 'fashion-mnist';
  /**
   * Directory holding the dataset's four IDX .gz files (or fashion-mnist_train.csv / fashion-mnist_test.csv); relative paths are relative to the experiment file. Searched before --data-dir, FASHION_MNIST_DIR, the user cache and /usr/share/datasets/fashion-mnist.
   */
  path?: string;
  /**
   * Data scored after every epoch: 'test' uses the test set, a number in (0, 0.5] holds out that fraction of the training set instead. The final evaluation always uses the test set.
   */
  validation?: 'test' | number;
  /**
   * Use only the first N training images (quick runs).
   */
  trainLimit?: number;
  /**
   * Use only the first N test images (quick runs).
   */
  testLimit?: number;
}
/**
 * The network: the shape of one input image and the layer stack applied to it.
 */
export interface ModelConfig {
  /**
   * Input shape [height, width, channels]; images are scaled to [0, 1].
   *
   * @minItems 1
   * @maxItems 3
   */
  input?: [number] | [number, number] | [number, number, number];
  /**
   * The layer stack, in order. Each entry is tf.layers.<type>(args) with TensorFlow.js argument names.
   *
   * @minItems 1
   */
  layers: [Layer, ...Layer[]];
}
/**
 * 2D convolution (tf.layers.conv2d).
 */
export interface Conv2DLayer {
  type: 'conv2d';
  name?: LayerName;
  /**
   * Number of output channels.
   */
  filters: number;
  /**
   * Kernel size, an integer or [height, width].
   */
  kernelSize: number | [number, number];
  /**
   * Step of the window, an integer or [height, width]; 2 halves the output size.
   */
  strides?: number | [number, number];
  padding?: Padding;
  /**
   * Spacing between kernel taps, an integer or [height, width]; above 1 it widens the view without more weights. tfjs cannot combine it with strides above 1.
   */
  dilationRate?: number | [number, number];
  /**
   * Activation function (tfjs name).
   */
  activation?:
    | 'linear'
    | 'relu'
    | 'relu6'
    | 'elu'
    | 'selu'
    | 'tanh'
    | 'sigmoid'
    | 'hardSigmoid'
    | 'softmax'
    | 'softplus'
    | 'softsign'
    | 'swish'
    | 'mish'
    | 'gelu';
  /**
   * Whether the layer adds a learned bias to each output channel.
   */
  useBias?: boolean;
  /**
   * Weight initializer (tfjs name); seeded from train.seed.
   */
  kernelInitializer?:
    'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal' | 'leCunUniform' | 'leCunNormal' | 'zeros' | 'ones';
}
/**
 * Depthwise 2D convolution (tf.layers.depthwiseConv2d).
 */
export interface DepthwiseConv2DLayer {
  type: 'depthwiseConv2d';
  name?: LayerName;
  /**
   * Kernel size, an integer or [height, width].
   */
  kernelSize: number | [number, number];
  /**
   * Output channels per input channel of the depthwise step.
   */
  depthMultiplier?: number;
  /**
   * Step of the window, an integer or [height, width]; 2 halves the output size.
   */
  strides?: number | [number, number];
  padding?: Padding;
  /**
   * Activation function (tfjs name).
   */
  activation?:
    | 'linear'
    | 'relu'
    | 'relu6'
    | 'elu'
    | 'selu'
    | 'tanh'
    | 'sigmoid'
    | 'hardSigmoid'
    | 'softmax'
    | 'softplus'
    | 'softsign'
    | 'swish'
    | 'mish'
    | 'gelu';
  /**
   * Whether the layer adds a learned bias to each output channel.
   */
  useBias?: boolean;
}
/**
 * Depthwise then pointwise 2D convolution (tf.layers.separableConv2d).
 */
export interface SeparableConv2DLayer {
  type: 'separableConv2d';
  name?: LayerName;
  /**
   * Number of output channels (of the pointwise step).
   */
  filters: number;
  /**
   * Kernel size, an integer or [height, width].
   */
  kernelSize: number | [number, number];
  /**
   * Output channels per input channel of the depthwise step.
   */
  depthMultiplier?: number;
  /**
   * Step of the window, an integer or [height, width]; 2 halves the output size.
   */
  strides?: number | [number, number];
  padding?: Padding;
  /**
   * Activation function (tfjs name).
   */
  activation?:
    | 'linear'
    | 'relu'
    | 'relu6'
    | 'elu'
    | 'selu'
    | 'tanh'
    | 'sigmoid'
    | 'hardSigmoid'
    | 'softmax'
    | 'softplus'
    | 'softsign'
    | 'swish'
    | 'mish'
    | 'gelu';
  /**
   * Whether the layer adds a learned bias to each output channel.
   */
  useBias?: boolean;
}
/**
 * 2D max pooling (tf.layers.maxPooling2d).
 */
export interface MaxPooling2DLayer {
  type: 'maxPooling2d';
  name?: LayerName;
  /**
   * Window size, an integer or [height, width]; 2 halves height and width.
   */
  poolSize?: number | [number, number];
  /**
   * Step of the window, an integer or [height, width]; defaults to poolSize, so windows do not overlap.
   */
  strides?: number | [number, number];
  padding?: Padding;
}
/**
 * 2D average pooling (tf.layers.averagePooling2d).
 */
export interface AveragePooling2DLayer {
  type: 'averagePooling2d';
  name?: LayerName;
  /**
   * Window size, an integer or [height, width]; 2 halves height and width.
   */
  poolSize?: number | [number, number];
  /**
   * Step of the window, an integer or [height, width]; defaults to poolSize, so windows do not overlap.
   */
  strides?: number | [number, number];
  padding?: Padding;
}
/**
 * Average over height and width (tf.layers.globalAveragePooling2d).
 */
export interface GlobalAveragePooling2DLayer {
  type: 'globalAveragePooling2d';
  name?: LayerName;
}
/**
 * Maximum over height and width (tf.layers.globalMaxPooling2d).
 */
export interface GlobalMaxPooling2DLayer {
  type: 'globalMaxPooling2d';
  name?: LayerName;
}
/**
 * Fully connected layer (tf.layers.dense). Expects a flat input: put a flatten layer after convolutions.
 */
export interface DenseLayer {
  type: 'dense';
  name?: LayerName;
  /**
   * Number of outputs; the last layer needs one per class (10).
   */
  units: number;
  /**
   * Activation function (tfjs name).
   */
  activation?:
    | 'linear'
    | 'relu'
    | 'relu6'
    | 'elu'
    | 'selu'
    | 'tanh'
    | 'sigmoid'
    | 'hardSigmoid'
    | 'softmax'
    | 'softplus'
    | 'softsign'
    | 'swish'
    | 'mish'
    | 'gelu';
  /**
   * Whether the layer adds a learned bias to each output.
   */
  useBias?: boolean;
  /**
   * Weight initializer (tfjs name); seeded from train.seed.
   */
  kernelInitializer?:
    'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal' | 'leCunUniform' | 'leCunNormal' | 'zeros' | 'ones';
}
/**
 * Randomly zeroes a fraction of inputs while training (tf.layers.dropout); seeded from train.seed.
 */
export interface DropoutLayer {
  type: 'dropout';
  name?: LayerName;
  /**
   * Fraction of inputs to drop.
   */
  rate: number;
}
/**
 * Flattens feature maps into a vector (tf.layers.flatten).
 */
export interface FlattenLayer {
  type: 'flatten';
  name?: LayerName;
}
/**
 * Batch normalization over the last axis (tf.layers.batchNormalization).
 */
export interface BatchNormalizationLayer {
  type: 'batchNormalization';
  name?: LayerName;
  /**
   * Weight of the old value in the moving mean and variance used at inference (tfjs default 0.99).
   */
  momentum?: number;
  /**
   * Small number added to the variance so that normalisation never divides by zero (tfjs default 0.001).
   */
  epsilon?: number;
}
/**
 * Applies an activation function (tf.layers.activation).
 */
export interface ActivationLayer {
  type: 'activation';
  name?: LayerName;
  activation: ActivationName;
}
/**
 * Leaky rectified linear unit (tf.layers.leakyReLU).
 */
export interface LeakyReLULayer {
  type: 'leakyReLU';
  name?: LayerName;
  /**
   * Slope for negative inputs (tfjs default 0.3); 0 makes it a plain ReLU.
   */
  alpha?: number;
}
/**
 * Reshapes each sample (tf.layers.reshape); the product must stay the same.
 */
export interface ReshapeLayer {
  type: 'reshape';
  name?: LayerName;
  /**
   * Shape of each sample after the layer, batch axis excluded; its product must equal the input's (784 for a raw image).
   *
   * @minItems 1
   */
  targetShape: [number, ...number[]];
}
/**
 * How to train: optimizer, loss, epochs, batch size, seed, early stopping.
 */
export interface TrainConfig {
  optimizer?: OptimizerConfig;
  /**
   * sparseCategoricalCrossentropy takes class indices; categoricalCrossentropy and meanSquaredError get one-hot labels. The crossentropies expect a softmax output.
   */
  loss?: 'sparseCategoricalCrossentropy' | 'categoricalCrossentropy' | 'meanSquaredError';
  /**
   * Passes over the training set.
   */
  epochs?: number;
  /**
   * Samples per gradient step.
   */
  batchSize?: number;
  /**
   * Seeds initializers, dropout, shuffling and augmentation: a 32-bit seed, 0 to 4294967295 (2^32 - 1). With repeat N the trials use seed .. seed + N - 1, which must stay in that range.
   */
  seed?: number;
  earlyStopping?: EarlyStoppingConfig;
}
/**
 * Optimizer and its settings (tf.train.<name>).
 */
export interface OptimizerConfig {
  /**
   * Optimizer (tf.train.<name>); sgd uses momentum when given.
   */
  name?: 'sgd' | 'adam' | 'rmsprop' | 'adagrad' | 'adadelta' | 'adamax';
  /**
   * Defaults: sgd 0.01, adam 0.001, rmsprop 0.001, adagrad 0.01, adadelta 1.0, adamax 0.002 (the Keras defaults).
   */
  learningRate?: number;
  /**
   * sgd and rmsprop only.
   */
  momentum?: number;
  /**
   * adam and adamax only.
   */
  beta1?: number;
  /**
   * adam and adamax only.
   */
  beta2?: number;
  /**
   * Small number added to denominators for numerical stability (adam, adamax, rmsprop, adadelta); tfjs's default is the backend epsilon, 1e-7.
   */
  epsilon?: number;
  /**
   * adadelta and rmsprop decay.
   */
  rho?: number;
}
/**
 * Stop when the monitored metric has not improved by minDelta for patience epochs; the best epoch's weights are kept.
 */
export interface EarlyStoppingConfig {
  /**
   * Metric watched after every epoch: valLoss and valAccuracy are scored on data.validation, loss and accuracy on the training batches.
   */
  monitor?: 'valLoss' | 'valAccuracy' | 'loss' | 'accuracy';
  /**
   * Epochs without improvement to wait before stopping; 0 stops at the first epoch that does not improve.
   */
  patience?: number;
  /**
   * Smallest change of the monitored metric that counts as an improvement.
   */
  minDelta?: number;
}
/**
 * Flips each training image with probability 0.5.
 */
export interface RandomFlip {
  type: 'randomFlip';
  /**
   * Which flips may happen.
   */
  mode?: 'horizontal' | 'vertical' | 'horizontal_and_vertical';
}
/**
 * Shifts each image by up to height/width times its size (Keras RandomTranslation); uncovered pixels are 0.
 */
export interface RandomTranslation {
  type: 'randomTranslation';
  /**
   * Largest vertical shift, as a fraction of the image height (0.1 = up to 2.8 pixels either way).
   */
  height: number;
  /**
   * Largest horizontal shift, as a fraction of the image width.
   */
  width: number;
}
/**
 * Rotates each image by up to factor × 360 degrees either way (Keras RandomRotation).
 */
export interface RandomRotation {
  type: 'randomRotation';
  /**
   * Largest rotation as a fraction of a full turn, either way (0.05 = up to 18 degrees).
   */
  factor: number;
}
/**
 * Zooms each image in or out by up to height (and width, default the same) as a fraction (Keras RandomZoom).
 */
export interface RandomZoom {
  type: 'randomZoom';
  /**
   * Largest vertical zoom as a fraction: 0.1 scales by a factor between 0.9 and 1.1.
   */
  height: number;
  /**
   * Largest horizontal zoom as a fraction; without it, width follows height (the aspect ratio is kept).
   */
  width?: number;
}
/**
 * Adds zero-mean Gaussian noise to each pixel (pixels are in [0, 1]).
 */
export interface GaussianNoise {
  type: 'gaussianNoise';
  /**
   * Standard deviation of the noise, on the [0, 1] pixel scale.
   */
  stddev: number;
}
/**
 * A distribution that random search samples a sweep key's values from, each key on its own: one of uniform, logUniform, int or choice. Sampled numbers are rounded to 4 significant digits. A grid needs a list of values instead.
 */
export interface Distribution {
  /**
   * [low, high]: numbers spread evenly from low to high, e.g. a dropout rate.
   *
   * @minItems 2
   * @maxItems 2
   */
  uniform?: [number, number];
  /**
   * [low, high], both above 0: numbers spread evenly on a log scale, each power of ten as likely as the next; for learning rates.
   *
   * @minItems 2
   * @maxItems 2
   */
  logUniform?: [number, number];
  /**
   * [low, high]: whole numbers from low to high, both included, e.g. units or filters.
   *
   * @minItems 2
   * @maxItems 2
   */
  int?: [number, number];
  /**
   * Values picked with equal chances, as a plain list is under random search.
   *
   * @minItems 1
   */
  choice?: [
    number | string | boolean | unknown[] | {} | null,
    ...(number | string | boolean | unknown[] | {} | null)[]
  ];
}
/**
 * How the sweep is searched: every combination (grid, the default), a seeded sample of it (random), or asynchronous successive halving (asha), which trains many configs briefly and only the best longer. maxTrials and timeBudget stop any strategy from starting new trials.
 */
export interface SearchConfig {
  /**
   * grid runs every combination of the sweep's lists; random samples search.trials configs from the sweep's lists and distributions; asha trains its configs minEpochs first and promotes the best 1/reduction of each rung to reduction times as many epochs, up to maxEpochs.
   */
  strategy?: 'grid' | 'random' | 'asha';
  /**
   * How many distinct configs random sampling draws: required for strategy random and for asha with candidates: random, refused otherwise. Each runs repeat times.
   */
  trials?: number;
  /**
   * asha only: where its configs come from: every combination of the sweep's lists (grid), or search.trials configs sampled from its lists and distributions (random).
   */
  candidates?: 'grid' | 'random';
  /**
   * Seeds random sampling only, so that the same file always samples the same configs; independent of train.seed and of repeat. 0 to 4294967295 (2^32 - 1).
   */
  seed?: number;
  /**
   * asha only: epochs every config trains before its first comparison (the lowest rung); below maxEpochs.
   */
  minEpochs?: number;
  /**
   * asha only: epochs the best configs train in the end (the top rung); train.epochs when not given. asha sets each trial's epochs itself, so train.epochs is not swept.
   */
  maxEpochs?: number;
  /**
   * asha only: the reduction factor η: the best 1/η of a rung's configs move up, and each rung trains η times as many epochs as the one below.
   */
  reduction?: number;
  /**
   * asha only: the score that ranks configs within a rung: valAccuracy and valLoss are scored on data.validation, accuracy and loss on the training batches.
   */
  metric?: 'valAccuracy' | 'valLoss' | 'accuracy' | 'loss';
  /**
   * Any strategy: start no more trials once this many have started.
   */
  maxTrials?: number;
  /**
   * Any strategy: start no new trial once the sweep has run this long: a number and a unit (s, m, h or d), at least a second.
   */
  timeBudget?: string;
}
